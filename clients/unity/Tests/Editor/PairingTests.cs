// A display and a controller on the real server: draws with request ids, typed errors,
// held draws, and refusals that end the connection for good.

using System;
using System.Linq;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class PairingTests : ServerTest
    {
        [Test]
        public void AControllersDifficultyReachesItsDisplayAsADraw()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                string uuid = NewUuid();
                PairlinkDisplay display = Display(server, uuid.ToUpperInvariant());
                var shown = new Recorder(display, "display");
                await display.ConnectAsync();
                Assert.AreEqual(uuid, display.Uuid, "the welcome gives the canonical lowercase UUID");
                Assert.AreEqual("display", display.Welcome.Role);

                PairlinkController controller = Controller(server, uuid);
                await controller.ConnectAsync();
                Assert.AreEqual(ConnectionStateKind.Open, controller.State.Kind);

                Assert.AreEqual(DrawStatus.Received, await controller.SendDifficultyAsync(1));
                Draw draw = await shown.WaitFor<Draw>(d => true, "draw");
                Assert.AreEqual(1, draw.Difficulty);
                Assert.AreEqual(3, draw.QuizIds.Count);
                Assert.AreEqual(3, draw.QuizIds.Distinct().Count(), "quizzes are distinct");
                Assert.IsFalse(draw.Held);
                Assert.IsNull(draw.SentAt);
            });
        }

        [Test]
        public void ConcurrentRequestsGetTheirOwnAnswersByTheirIds()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                Pair pair = await OpenPair(server);
                PairlinkController controller = pair.Controller;
                Recorder shown = pair.Shown;

                Task<DrawStatus> first = controller.SendDifficultyAsync(1);
                Task<DrawStatus> unknown = controller.SendDifficultyAsync(99);
                Task<DrawStatus> second = controller.SendDifficultyAsync(2);
                Assert.AreEqual(DrawStatus.Received, await first);
                Assert.AreEqual("no_content", (await Throws(unknown)).Code);
                Assert.AreEqual(DrawStatus.Received, await second);

                await shown.WaitFor<Draw>(d => d.Difficulty == 2, "the second draw");
                CollectionAssert.AreEqual(new long[] { 1, 2 }, shown.All<Draw>().Select(d => d.Difficulty).ToList());
            });
        }

        [Test]
        public void AnUnknownDifficultyIsATypedErrorAndTheConnectionStays()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                PairlinkController controller = (await OpenPair(server)).Controller;

                PairlinkException error = await Throws(controller.SendDifficultyAsync(9));
                Assert.AreEqual("no_content", error.Code);
                Assert.AreEqual(ConnectionStateKind.Open, controller.State.Kind);
                Assert.AreEqual(DrawStatus.Received, await controller.SendDifficultyAsync(1));
            });
        }

        [Test]
        public void DrawsForAnAbsentDisplayAreHeldAndDeliveredWhenItReturns()
        {
            Run(async () =>
            {
                PairlinkServer server = Server("--hold-for", "30s");
                Pair pair = await OpenPair(server);
                PairlinkDisplay display = pair.Display;
                PairlinkController controller = pair.Controller;
                Recorder shown = pair.Shown, phone = pair.Phone;
                Assert.AreEqual(TimeSpan.FromSeconds(30), controller.Welcome.Hold);

                display.Pause();
                Assert.AreEqual(ConnectionStateKind.Closed, display.State.Kind);
                Assert.AreEqual("paused", display.State.Reason.Reason);
                await phone.WaitFor<PeerChange>(p => p.Role == "display" && !p.Connected, "the display leaving");
                Assert.AreEqual(DrawStatus.Queued, await controller.SendDifficultyAsync(2));

                int before = await shown.Settle();
                display.Resume();
                Draw held = await shown.WaitFor<Draw>(d => true, "the held draw", before);
                Assert.IsTrue(held.Held);
                Assert.IsTrue(held.SentAt.HasValue);
                Assert.AreEqual(2, held.Difficulty);
                Assert.AreEqual(ConnectionStateKind.Open, display.State.Kind);
            });
        }

        [Test]
        public void AHeldDrawThatRunsOutIsReportedToTheController()
        {
            Run(async () =>
            {
                PairlinkServer server = Server("--hold-for", "1s");
                Pair pair = await OpenPair(server);
                PairlinkDisplay display = pair.Display;
                PairlinkController controller = pair.Controller;
                Recorder phone = pair.Phone;

                await display.CloseAsync();
                await phone.WaitFor<PeerChange>(p => !p.Connected, "the display leaving");
                Assert.AreEqual(DrawStatus.Queued, await controller.SendDifficultyAsync(3));
                ExpiredDraw expired = await phone.WaitFor<ExpiredDraw>(e => true, "the draw expiring");
                Assert.AreEqual(3, expired.Difficulty);
            });
        }

        [Test]
        public void AMalformedUuidIsRefusedForGood()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                PairlinkDisplay display = Display(server, "not-a-uuid");
                var shown = new Recorder(display, "display");
                PairlinkException error = await Throws(display.ConnectAsync());
                Assert.AreEqual("invalid_uuid", error.Code);
                Assert.AreEqual(ConnectionStateKind.Closed, display.State.Kind);
                Assert.AreEqual(4400, display.State.Reason.Code);
                Assert.AreEqual(0, shown.All<ConnectionState>().Count(s => s.Kind == ConnectionStateKind.Reconnecting));
            });
        }
    }
}
