// Presence in both directions, and relay data both ways as JSON and as binary.

using System.Linq;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class PresenceAndRelayTests : ServerTest
    {
        [Test]
        public void EachSideSeesTheOtherComeAndGo()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                Pair pair = await OpenPair(server);
                PairlinkDisplay display = pair.Display;
                PairlinkController controller = pair.Controller;
                Recorder shown = pair.Shown, phone = pair.Phone;
                string uuid = pair.Uuid;
                await shown.WaitFor<PeerChange>(p => p.Role == "controller" && p.Connected, "the controller arriving");
                await phone.WaitFor<PeerChange>(p => p.Role == "display" && p.Connected, "the display, from the welcome");
                Assert.IsTrue(controller.PeerConnected);

                await controller.CloseAsync();
                await shown.WaitFor<PeerChange>(p => p.Role == "controller" && !p.Connected, "the controller leaving");
                Assert.IsFalse(display.PeerConnected);

                PairlinkController again = Controller(server, uuid);
                var phone2 = new Recorder(again, "second controller");
                await again.ConnectAsync();
                await display.CloseAsync();
                await phone2.WaitFor<PeerChange>(p => p.Role == "display" && !p.Connected, "the display leaving");
                Assert.AreEqual(ConnectionStateKind.Open, again.State.Kind, "a controller stays when its display goes");
                Assert.AreEqual("display_offline", (await Throws(again.SendDifficultyAsync(1))).Code);
            });
        }

        [Test]
        public void RelayDataGoesBothWaysAsJsonAndBinary()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                Pair pair = await OpenPair(server);
                PairlinkDisplay display = pair.Display;
                PairlinkController controller = pair.Controller;
                Recorder shown = pair.Shown, phone = pair.Phone;

                var sent = new JObject { ["stick"] = new JArray(0.2, -1), ["at"] = "2026-12-01T12:00:00Z" };
                await controller.RelayAsync(sent);
                RelayMessage input = await shown.WaitFor<RelayMessage>(r => true, "the controller's relay");
                Assert.AreEqual("{\"stick\":[0.2,-1],\"at\":\"2026-12-01T12:00:00Z\"}", input.Data.ToString(Newtonsoft.Json.Formatting.None));

                await display.RelayAsync(JObject.Parse("{\"score\":120}"));
                RelayMessage result = await phone.WaitFor<RelayMessage>(r => true, "the display's relay");
                Assert.AreEqual(120, (int)result.Data["score"]);

                await controller.RelayAsync((object)"just text");
                await shown.WaitFor<RelayMessage>(r => r.Data.Type == JTokenType.String && (string)r.Data == "just text", "a string relay");

                byte[] frame = { 0, 1, 2, 254, 255 };
                await controller.RelayAsync(frame);
                BinaryRelayMessage toDisplay = await shown.WaitFor<BinaryRelayMessage>(b => true, "binary to the display");
                CollectionAssert.AreEqual(frame, toDisplay.Data);
                await display.RelayAsync(new byte[] { 42 });
                BinaryRelayMessage toController = await phone.WaitFor<BinaryRelayMessage>(b => true, "binary to the controller");
                CollectionAssert.AreEqual(new byte[] { 42 }, toController.Data);

                Assert.AreEqual(0, shown.All<PairlinkException>().Count + phone.All<PairlinkException>().Count, "no errors");
            });
        }

        [Test]
        public void RelayWithoutAPeerIsReportedThroughError()
        {
            Run(async () =>
            {
                PairlinkServer server = Server();
                PairlinkDisplay display = Display(server, NewUuid());
                var shown = new Recorder(display, "display");
                await display.ConnectAsync();
                await display.RelayAsync(JObject.Parse("{\"score\":1}"));
                PairlinkException error = await shown.WaitFor<PairlinkException>(e => true, "an error");
                Assert.AreEqual("controller_offline", error.Code);
                Assert.AreEqual(ConnectionStateKind.Open, display.State.Kind);
            });
        }

        [Test]
        public void AMessageOverTheServersLimitIsNotSent()
        {
            Run(async () =>
            {
                PairlinkServer server = Server("--max-message-bytes", "1024");
                Pair pair = await OpenPair(server);
                PairlinkDisplay display = pair.Display;
                Assert.AreEqual(1024, display.Welcome.MaxMessageBytes);
                PairlinkException error = await Throws(display.RelayAsync(new byte[2048]));
                Assert.AreEqual(ErrorCodes.MessageTooBig, error.Code);
                // Nothing was sent, so pairlink did not close with 1009: the next message still goes.
                await display.RelayAsync(new byte[16]);
                Recorder phone = pair.Phone;
                await phone.WaitFor<BinaryRelayMessage>(b => b.Data.Length == 16, "the small message");
            });
        }
    }
}
