// What happens when connections end: 4001 is final, a restarted or frozen server is
// reconnected to by itself, a controller waits for its display, requests in flight fail.

using System;
using System.Linq;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class ReconnectTests : ServerTest
    {
        [Test]
        public void AReplacedDisplayClosesAndDoesNotTakeItsPlaceBack()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                string uuid = NewUuid();
                PairlinkDisplay first = Display(server, uuid);
                var old = new Recorder(first, "first display");
                await first.ConnectAsync();
                PairlinkDisplay second = Display(server, uuid);
                var now = new Recorder(second, "second display");
                await second.ConnectAsync();

                ConnectionState closed = await old.WaitForState(ConnectionStateKind.Closed);
                Assert.AreEqual(4001, closed.Reason.Code);
                Assert.AreEqual("replaced", closed.Reason.Reason);

                PairlinkController controller = Controller(server, uuid);
                await controller.ConnectAsync();
                Assert.AreEqual(DrawStatus.Received, await controller.SendDifficultyAsync(1));
                await now.WaitFor<Draw>(d => true, "the draw on the new display");
                // Many times the first display's backoff: had it reconnected, it would have
                // replaced the second one by now.
                await Task.Delay(1000);
                Assert.AreEqual(ConnectionStateKind.Closed, first.State.Kind);
                Assert.AreEqual(0, old.All<Draw>().Count);
                Assert.AreEqual(ConnectionStateKind.Closed, old.All<ConnectionState>().Last().Kind);
                Assert.AreEqual(0, now.All<ConnectionState>().Count(s => s.Kind == ConnectionStateKind.Closed));
            });
        }

        [Test]
        public void BothSidesReconnectByThemselvesAfterAServerRestart()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                Pair pair = await OpenPair(server);
                PairlinkController controller = pair.Controller;
                Recorder shown = pair.Shown, phone = pair.Phone;
                int displayBefore = await shown.Settle(), controllerBefore = await phone.Settle();

                server.Restart();

                ConnectionState lost = await shown.WaitForState(ConnectionStateKind.Reconnecting, displayBefore);
                Assert.That(lost.LastReason.Code, Is.EqualTo(1001).Or.EqualTo(1006), lost.ToString());
                await shown.WaitForState(ConnectionStateKind.Open, displayBefore);
                await phone.WaitForState(ConnectionStateKind.Reconnecting, controllerBefore);
                await phone.WaitForState(ConnectionStateKind.Open, controllerBefore);

                Assert.AreEqual(DrawStatus.Received, await controller.SendDifficultyAsync(1));
                await shown.WaitFor<Draw>(d => true, "a draw after the restart");
            });
        }

        [Test]
        public void AControllerStartedFirstWaitsForItsDisplay()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                string uuid = NewUuid();
                PairlinkController controller = Controller(server, uuid);
                var phone = new Recorder(controller, "controller");
                Task connecting = controller.ConnectAsync();

                ConnectionState waiting = await phone.WaitFor<ConnectionState>(
                    s => s.Kind == ConnectionStateKind.Reconnecting, "a refusal while the display is away");
                Assert.AreEqual(4400, waiting.LastReason.Code);
                Assert.AreEqual("display_offline", waiting.LastReason.Reason);
                Assert.IsFalse(connecting.IsCompleted);

                PairlinkDisplay display = Display(server, uuid);
                var shown = new Recorder(display, "display");
                await display.ConnectAsync();
                await connecting;
                Assert.AreEqual(DrawStatus.Received, await controller.SendDifficultyAsync(1));
                await shown.WaitFor<Draw>(d => true, "the draw");
            });
        }

        [Test]
        public void AFrozenServerIsNoticedByThePingAndLeftForANewConnection()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                PairlinkOptions options = Quick();
                options.PingInterval = TimeSpan.FromMilliseconds(300);
                options.ConnectTimeout = TimeSpan.FromSeconds(1);
                Pair pair = await OpenPair(server, options);
                PairlinkController controller = pair.Controller;
                Recorder shown = pair.Shown, phone = pair.Phone;
                int displayBefore = await shown.Settle(), controllerBefore = await phone.Settle();

                server.Freeze();
                Task<DrawStatus> inFlight = controller.SendDifficultyAsync(1);
                ConnectionState dead = await phone.WaitForState(ConnectionStateKind.Reconnecting, controllerBefore);
                Assert.AreEqual("ping_timeout", dead.LastReason.Reason);
                Assert.AreEqual(ErrorCodes.ConnectionLost, (await Throws(inFlight)).Code);
                dead = await shown.WaitForState(ConnectionStateKind.Reconnecting, displayBefore);
                Assert.AreEqual("ping_timeout", dead.LastReason.Reason);

                server.Thaw();
                await shown.WaitForState(ConnectionStateKind.Open, displayBefore);
                await phone.WaitForState(ConnectionStateKind.Open, controllerBefore);
                Assert.AreEqual(DrawStatus.Received, await controller.SendDifficultyAsync(2));
                await shown.WaitFor<Draw>(d => d.Difficulty == 2, "a draw after the thaw");
            });
        }

        [Test]
        public void ClosingStopsReconnectingAndConnectStartsAgain()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                PairlinkDisplay display = Display(server, NewUuid());
                var shown = new Recorder(display, "display");
                await display.ConnectAsync();
                await display.CloseAsync();
                Assert.AreEqual(ConnectionStateKind.Closed, display.State.Kind);
                Assert.AreEqual(ErrorCodes.Closed, display.State.Reason.Reason);
                Assert.AreEqual(ErrorCodes.NotConnected, (await Throws(display.RelayAsync(new byte[] { 1 }))).Code);

                await display.ConnectAsync();
                Assert.AreEqual(ConnectionStateKind.Open, display.State.Kind);
                await shown.WaitFor<ConnectionState>(s => s.Kind == ConnectionStateKind.Open, "the second open", 3);
            });
        }

        [Test]
        public void DisposingClosesAndDeliversNothingMore()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                Pair pair = await OpenPair(server);
                int delivered = await pair.Shown.Settle();
                await pair.Display.DisposeAsync();
                await pair.Phone.WaitFor<PeerChange>(p => !p.Connected, "the display leaving");
                Assert.AreEqual(ConnectionStateKind.Closed, pair.Display.State.Kind);
                Assert.AreEqual(delivered, pair.Shown.Count, "no events after DisposeAsync, not even Closed");
                Assert.Throws<ObjectDisposedException>(() => pair.Display.ConnectAsync());
                pair.Controller.Dispose();
                pair.Controller.Dispose(); // twice is harmless
            });
        }
    }
}
