// Connection tokens against a server with --auth-secret: a provider is asked before every
// connect and again after a 4401; a static token that pairlink refuses is final.

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class TokenTests : ServerTest
    {
        [Test]
        public void AnExpiredTokenIsReplacedByAFreshOneFromTheProvider()
        {
            Run(async () =>
            {
                PairlinkServer server = Server("--auth-secret", Jwt.Secret);
                string uuid = NewUuid();
                PairlinkOptions displayOptions = Quick();
                displayOptions.Token = Jwt.Mint("display:" + uuid, TimeSpan.FromHours(1));
                PairlinkDisplay display = Display(server, uuid, displayOptions);
                await display.ConnectAsync();

                int calls = 0;
                PairlinkOptions options = Quick();
                options.TokenProvider = ct =>
                {
                    // The second connect gets a token that expired long ago (beyond pairlink's 30 s leeway).
                    int call = Interlocked.Increment(ref calls);
                    TimeSpan expiry = call == 2 ? TimeSpan.FromMinutes(-5) : TimeSpan.FromHours(1);
                    return Task.FromResult(Jwt.Mint("controller:" + uuid, expiry));
                };
                PairlinkController controller = Controller(server, uuid, options);
                var phone = new Recorder(controller, "controller");
                await controller.ConnectAsync();
                Assert.AreEqual(1, calls);

                int before = await phone.Settle();
                controller.Pause();
                controller.Resume();
                ConnectionState refused = await phone.WaitForState(ConnectionStateKind.Reconnecting, before);
                Assert.AreEqual(4401, refused.LastReason.Code);
                Assert.AreEqual("token_expired", refused.LastReason.Reason);
                await phone.WaitForState(ConnectionStateKind.Open, before);
                Assert.AreEqual(3, calls);
                Assert.AreEqual(DrawStatus.Received, await controller.SendDifficultyAsync(1));
            });
        }

        [Test]
        public void AStaticTokenThatIsRefusedEndsTheConnection()
        {
            Run(async () =>
            {
                PairlinkServer server = Server("--auth-secret", Jwt.Secret);
                string uuid = NewUuid();
                PairlinkOptions options = Quick();
                options.Token = Jwt.Mint("display:" + uuid, TimeSpan.FromMinutes(-5));
                PairlinkDisplay display = Display(server, uuid, options);
                var shown = new Recorder(display, "display");
                PairlinkException error = await Throws(display.ConnectAsync());
                Assert.AreEqual("token_expired", error.Code);
                Assert.AreEqual(4401, display.State.Reason.Code);
                Assert.AreEqual(0, shown.All<ConnectionState>().Count(s => s.Kind == ConnectionStateKind.Reconnecting));
            });
        }

        [Test]
        public void AProviderThatKeepsGivingRefusedTokensEndsAfterTheSecond4401()
        {
            Run(async () =>
            {
                PairlinkServer server = Server("--auth-secret", Jwt.Secret);
                string uuid = NewUuid();
                int calls = 0;
                PairlinkOptions options = Quick();
                options.TokenProvider = ct =>
                {
                    Interlocked.Increment(ref calls);
                    return Task.FromResult(Jwt.Mint("room:elsewhere", TimeSpan.FromHours(1)));
                };
                PairlinkDisplay display = Display(server, uuid, options);
                PairlinkException error = await Throws(display.ConnectAsync());
                Assert.AreEqual("token_invalid", error.Code);
                Assert.AreEqual(2, calls);
            });
        }

        [Test]
        public void AProviderWithNoTokenAfterA4401EndsTheConnection()
        {
            Run(async () =>
            {
                PairlinkServer server = Server("--auth-secret", Jwt.Secret);
                int calls = 0;
                PairlinkOptions options = Quick();
                options.TokenProvider = ct => Task.FromResult(Interlocked.Increment(ref calls) == 1 ? null : "");
                PairlinkDisplay display = Display(server, NewUuid(), options);
                PairlinkException error = await Throws(display.ConnectAsync());
                Assert.AreEqual("token_unavailable", error.Code);
                Assert.AreEqual(2, calls);
            });
        }

        [Test]
        public void ThePairingCodeRequestCarriesTheDisplaysToken()
        {
            Run(async () =>
            {
                PairlinkServer server = Server("--auth-secret", Jwt.Secret);
                string uuid = NewUuid();
                PairlinkOptions options = Quick();
                options.Token = Jwt.Mint("display:" + uuid, TimeSpan.FromHours(1));
                PairlinkDisplay display = Display(server, uuid, options);
                await display.ConnectAsync();
                PairingCode code = await display.GetPairingCodeAsync();
                Assert.AreEqual(uuid, code.Uuid);

                PairlinkController controller = Own(PairlinkController.FromJoinUrl(code.JoinUrl, Quick()));
                await controller.ConnectAsync(); // joining needs no token
                Assert.AreEqual(uuid, controller.Uuid);
            });
        }
    }
}
