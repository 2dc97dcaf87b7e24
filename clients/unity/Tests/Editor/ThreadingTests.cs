// Events run on the SynchronizationContext that was current when the client was made,
// as on Unity's main thread; a handler that throws is reported and harms nothing.

using System;
using System.Linq;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class ThreadingTests : ServerTest
    {
        [Test]
        public void EveryEventRunsOnTheCreatingContextsThread()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                string uuid = NewUuid();
                using (var main = new SingleThreadContext())
                {
                    Recorder shown = null, phone = null;
                    await main.Run(async () =>
                    {
                        PairlinkDisplay display = Display(server, uuid);
                        shown = new Recorder(display, "display");
                        await display.ConnectAsync();
                        Assert.IsTrue(main.OnThread, "awaiting the SDK comes back to the app's context");
                        PairlinkController controller = Controller(server, uuid);
                        phone = new Recorder(controller, "controller");
                        await controller.ConnectAsync();
                        await controller.SendDifficultyAsync(1);
                        Assert.IsTrue(main.OnThread);
                        await controller.RelayAsync(JObject.Parse("{\"a\":1}"));
                        await display.RelayAsync(new byte[] { 7 });
                        return true;
                    });
                    await shown.WaitFor<Draw>(d => true, "the draw");
                    await shown.WaitFor<RelayMessage>(r => true, "the relay");
                    await phone.WaitFor<BinaryRelayMessage>(b => true, "the binary relay");
                    Assert.That(shown.Count, Is.GreaterThanOrEqualTo(5));
                    Assert.That(shown.Threads().Concat(phone.Threads()), Is.All.EqualTo(main.ThreadId));
                }
            });
        }

        [Test]
        public void AThrowingHandlerIsReportedAndTheConnectionCarriesOn()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                Pair pair = await OpenPair(server);
                PairlinkDisplay display = pair.Display;
                PairlinkController controller = pair.Controller;
                Recorder shown = pair.Shown;
                bool thrown = false;
                display.DrawReceived += (s, d) =>
                {
                    if (thrown) return;
                    thrown = true;
                    throw new InvalidOperationException("a bug in the game");
                };
                await controller.SendDifficultyAsync(1);
                PairlinkException error = await shown.WaitFor<PairlinkException>(e => true, "the handler's failure");
                Assert.AreEqual(ErrorCodes.HandlerFailed, error.Code);
                Assert.AreEqual("a bug in the game", error.InnerException.Message);

                await controller.SendDifficultyAsync(2);
                await shown.WaitFor<Draw>(d => d.Difficulty == 2, "the next draw");
                Assert.AreEqual(ConnectionStateKind.Open, display.State.Kind);
            });
        }
    }
}
