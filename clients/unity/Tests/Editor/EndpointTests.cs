// URLs derived from the server URL, and what a bad URL, UUID or code gets.

using System;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class EndpointTests
    {
        [Test]
        public void WebSocketAndHttpUrlsShareTheServer()
        {
            Uri ws = Endpoints.WebSocketBase("ws://192.168.1.20:8080/");
            Assert.AreEqual("ws://192.168.1.20:8080/ws/difficulty/unity/abc", Endpoints.Display(ws, "abc").AbsoluteUri);
            Assert.AreEqual("ws://192.168.1.20:8080/ws/difficulty/android/abc", Endpoints.Controller(ws, "abc").AbsoluteUri);
            Assert.AreEqual("ws://192.168.1.20:8080/ws/join/K7M2QX", Endpoints.Join(ws, "K7M2QX").AbsoluteUri);
            Uri http = Endpoints.HttpBase(ws);
            Assert.AreEqual("http://192.168.1.20:8080/api/pairings/abc/code", Endpoints.PairingCodeRequest(http, "abc").AbsoluteUri);
            Assert.AreEqual("http://192.168.1.20:8080/api/pairings/code/K7M2QX/qr.png?target=page", Endpoints.QrPng(http, "K7M2QX").AbsoluteUri);
        }

        [Test]
        public void SecureSchemesAndPathPrefixesAreKept()
        {
            Uri wss = Endpoints.WebSocketBase("https://play.example.com/pairlink");
            Assert.AreEqual("wss://play.example.com/pairlink/ws/join/AB", Endpoints.Join(wss, "AB").AbsoluteUri);
            Assert.AreEqual("https://play.example.com/pairlink/api/pairings/u/code",
                Endpoints.PairingCodeRequest(Endpoints.HttpBase(wss), "u").AbsoluteUri);
        }

        [Test]
        public void JoinUrlsSplitIntoServerAndCode()
        {
            Uri server;
            string code;
            Endpoints.ParseJoinUrl("ws://10.0.0.2:8080/ws/join/k7m2qx", out server, out code);
            Assert.AreEqual("ws://10.0.0.2:8080/", server.AbsoluteUri);
            Assert.AreEqual("K7M2QX", code);
            // The phone page's URL, which the QR codes hold, names the same server and code.
            Endpoints.ParseJoinUrl("https://play.example.com/join/K7M2QX", out server, out code);
            Assert.AreEqual("wss://play.example.com/", server.AbsoluteUri);
            Assert.AreEqual("K7M2QX", code);
        }

        [Test]
        public void BadInputIsRefusedAtOnce()
        {
            Assert.Throws<ArgumentException>(() => Endpoints.WebSocketBase("192.168.1.20:8080"));
            Assert.Throws<ArgumentException>(() => Endpoints.WebSocketBase("ftp://host"));
            Assert.Throws<ArgumentException>(() => Endpoints.WebSocketBase("ws://host?x=1"));
            Assert.Throws<ArgumentNullException>(() => new PairlinkDisplay(null, "u"));
            Assert.Throws<ArgumentNullException>(() => new PairlinkDisplay("ws://host", null));
            Assert.Throws<ArgumentException>(() => new PairlinkController("ws://host", " "));
            Assert.Throws<ArgumentException>(() => PairlinkController.Join("ws://host", "K7-M2"));
            Assert.Throws<ArgumentException>(() => PairlinkController.Join("ws://host", ""));
            Assert.Throws<ArgumentException>(() => PairlinkController.FromJoinUrl("ws://host/ws/difficulty/android/x"));
        }

        [Test]
        public void RequestsBeforeConnectingFailAsNotConnected()
        {
            using (var controller = new PairlinkController("ws://127.0.0.1:1", Guid.NewGuid().ToString()))
            {
                Assert.AreEqual(ConnectionStateKind.Idle, controller.State.Kind);
                var e = Assert.Throws<PairlinkException>(() => controller.SendDifficultyAsync(1).GetAwaiter().GetResult());
                Assert.AreEqual(ErrorCodes.NotConnected, e.Code);
                e = Assert.Throws<PairlinkException>(() => controller.RelayAsync(new byte[] { 1 }).GetAwaiter().GetResult());
                Assert.AreEqual(ErrorCodes.NotConnected, e.Code);
            }
        }
    }
}
