// Joining with a display's pairing code, and reconnecting by the UUID learnt from it.

using System;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class PairingCodeTests : ServerTest
    {
        private const string Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

        [Test]
        public void APhoneJoinsWithTheCodeAndLaterReconnectsByUuid()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                string uuid = NewUuid();
                PairlinkDisplay display = Display(server, uuid);
                var shown = new Recorder(display, "display");
                await display.ConnectAsync();

                PairingCode code = await display.GetPairingCodeAsync();
                Assert.AreEqual(6, code.Code.Length);
                Assert.IsTrue(code.Code.All(c => Alphabet.IndexOf(c) >= 0), code.Code);
                Assert.AreEqual(uuid, code.Uuid);
                StringAssert.EndsWith("/ws/join/" + code.Code, code.JoinUrl);
                Assert.That(code.ExpiresAt, Is.GreaterThan(DateTimeOffset.UtcNow));
                CollectionAssert.AreEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, code.QrPng.Take(8).ToArray(), "a PNG");
                Assert.AreEqual(code.Code, (await display.GetPairingCodeAsync()).Code, "the same live code");

                PairlinkController controller = Own(PairlinkController.Join(server.Url, code.Code.ToLowerInvariant(), Quick()));
                var phone = new Recorder(controller, "controller");
                Assert.IsNull(controller.Uuid);
                await controller.ConnectAsync();
                Assert.AreEqual(uuid, controller.Uuid, "learnt from the welcome");
                Assert.AreEqual(DrawStatus.Received, await controller.SendDifficultyAsync(1));
                await shown.WaitFor<Draw>(d => true, "the draw");

                // The code ends when its display disconnects; the controller now needs the UUID.
                int before = await shown.Settle();
                display.Pause();
                display.Resume();
                await shown.WaitForState(ConnectionStateKind.Open, before);
                before = await phone.Settle();
                controller.Pause();
                controller.Resume();
                await phone.WaitForState(ConnectionStateKind.Open, before);
                Assert.AreEqual(DrawStatus.Received, await controller.SendDifficultyAsync(2));
            });
        }

        [Test]
        public void TooManyGuessesWaitsAtLeastTheRetryAfter()
        {
            Run(async () =>
            {
                PairlinkServer server = Server("--code-guesses", "1/3s");
                PairlinkDisplay display = Display(server, NewUuid());
                await display.ConnectAsync();
                PairingCode code = await display.GetPairingCodeAsync();
                using (var http = new HttpClient())
                using (HttpResponseMessage guess = await http.GetAsync(server.HttpUrl + "/api/pairings/code/ZZZZZZ"))
                    Assert.AreEqual(404, (int)guess.StatusCode, "the one unknown code this address may look up");

                // Every lookup from this address is now refused until the window ends, even a live code's.
                PairlinkController controller = Own(PairlinkController.Join(server.Url, code.Code, Quick()));
                var phone = new Recorder(controller, "controller");
                Task connecting = controller.ConnectAsync();
                ConnectionState waiting = await phone.WaitForState(ConnectionStateKind.Reconnecting);
                Assert.AreEqual(4429, waiting.LastReason.Code);
                Assert.AreEqual("too_many_guesses", waiting.LastReason.Reason);
                Assert.IsTrue(waiting.LastReason.RetryAfter.HasValue);
                Assert.That(waiting.Delay, Is.GreaterThanOrEqualTo(waiting.LastReason.RetryAfter.Value));
                await connecting;
                Assert.AreEqual(display.Uuid, controller.Uuid);
            });
        }

        [Test]
        public void AnUnknownCodeIsFinal()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                PairlinkController controller = Own(PairlinkController.Join(server.Url, "ZZZZZZ", Quick()));
                PairlinkException error = await Throws(controller.ConnectAsync());
                Assert.AreEqual("unknown_code", error.Code);
                Assert.AreEqual(4404, controller.State.Reason.Code);
            });
        }

        [Test]
        public void AnOfflineDisplayGetsNoCode()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                PairlinkDisplay display = Display(server, NewUuid());
                PairlinkException error = await Throws(display.GetPairingCodeAsync());
                Assert.AreEqual("display_offline", error.Code);
                Assert.AreEqual(409, error.HttpStatus);
            });
        }
    }
}
