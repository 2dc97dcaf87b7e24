// Protocol v2 messages as pairlink sends them, and what the SDK sends.

using System;
using Newtonsoft.Json.Linq;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class WireTests
    {
        [Test]
        public void WelcomeIsRead()
        {
            Welcome w = Wire.ReadWelcome(Wire.ParseObject(
                "{\"type\":\"welcome\",\"role\":\"controller\",\"uuid\":\"de358130-e94a-5692-8b09-d27007ad1944\",\"peer\":true," +
                "\"idle_timeout_ms\":60000,\"max_message_bytes\":65536,\"rate_limit\":null,\"hold_ms\":null,\"later\":1}"));
            Assert.AreEqual("controller", w.Role);
            Assert.AreEqual("de358130-e94a-5692-8b09-d27007ad1944", w.Uuid);
            Assert.IsTrue(w.Peer);
            Assert.AreEqual(TimeSpan.FromSeconds(60), w.IdleTimeout);
            Assert.AreEqual(65536, w.MaxMessageBytes);
            Assert.IsNull(w.Hold);
        }

        [Test]
        public void HeldDrawKeepsItsSendingTime()
        {
            Draw d = Wire.ReadDraw(Wire.ParseObject(
                "{\"type\":\"draw\",\"quiz_id\":[4,1,3],\"action_id\":2,\"difficulty\":2,\"held\":true,\"sent_at\":\"2026-12-01T12:00:00.123Z\"}"));
            CollectionAssert.AreEqual(new long[] { 4, 1, 3 }, d.QuizIds);
            Assert.AreEqual(2, d.ActionId);
            Assert.AreEqual(2, d.Difficulty);
            Assert.IsTrue(d.Held);
            Assert.AreEqual(new DateTimeOffset(2026, 12, 1, 12, 0, 0, 123, TimeSpan.Zero), d.SentAt);
        }

        [Test]
        public void LiveDrawHasNoSendingTime()
        {
            Draw d = Wire.ReadDraw(Wire.ParseObject("{\"type\":\"draw\",\"quiz_id\":[],\"action_id\":9,\"difficulty\":1}"));
            Assert.IsFalse(d.Held);
            Assert.IsNull(d.SentAt);
            Assert.AreEqual(0, d.QuizIds.Count);
        }

        [Test]
        public void MalformedMessagesAreFormatErrors()
        {
            Assert.Throws<FormatException>(() => Wire.ParseObject("not json"));
            Assert.Throws<FormatException>(() => Wire.ParseObject("[1,2]"));
            Assert.Throws<FormatException>(() => Wire.ParseObject("{\"a\":1} trailing"));
            Assert.Throws<FormatException>(() => Wire.ReadDraw(Wire.ParseObject("{\"type\":\"draw\",\"action_id\":1}")));
            Assert.Throws<FormatException>(() => Wire.ReadDraw(Wire.ParseObject("{\"type\":\"draw\",\"quiz_id\":[\"x\"],\"action_id\":1}")));
            Assert.Throws<FormatException>(() => Wire.ReadDraw(Wire.ParseObject("{\"type\":\"draw\",\"quiz_id\":[1],\"action_id\":1,\"sent_at\":\"soon\"}")));
            Assert.Throws<FormatException>(() => Wire.ReadWelcome(Wire.ParseObject("{\"type\":\"welcome\",\"role\":\"display\"}")));
            Assert.Throws<FormatException>(() => Wire.ReadPeer(Wire.ParseObject("{\"type\":\"peer\",\"role\":\"display\",\"connected\":\"yes\"}")));
        }

        [Test]
        public void RelayedStringsThatLookLikeDatesStayStrings()
        {
            JObject m = Wire.ParseObject("{\"type\":\"relay\",\"data\":{\"at\":\"2026-12-01T12:00:00Z\",\"n\":1.5}}");
            Assert.AreEqual(JTokenType.String, m["data"]["at"].Type);
            Assert.AreEqual("{\"at\":\"2026-12-01T12:00:00Z\",\"n\":1.5}", m["data"].ToString(Newtonsoft.Json.Formatting.None));
        }

        [Test]
        public void OutgoingMessagesAreCompactJson()
        {
            Assert.AreEqual("{\"type\":\"difficulty\",\"difficulty\":2,\"id\":7}", Wire.Difficulty(2, 7));
            Assert.AreEqual("{\"type\":\"ping\",\"id\":5}", Wire.Ping(5));
            Assert.AreEqual("{\"type\":\"relay\",\"data\":{\"button\":\"A\"}}", Wire.Relay(JObject.Parse("{\"button\":\"A\"}")));
            Assert.AreEqual("{\"type\":\"relay\",\"data\":null}", Wire.Relay(null));
        }

        [Test]
        public void ErrorsCarryTheirCodeAndRetryAfter()
        {
            PairlinkException e = Wire.ReadError(Wire.ParseObject(
                "{\"type\":\"error\",\"code\":\"too_many_guesses\",\"message\":\"slow down\",\"retry_after\":12}"));
            Assert.AreEqual("too_many_guesses", e.Code);
            Assert.AreEqual("slow down", e.Message);
            Assert.AreEqual(12, e.RetryAfterSeconds);
            Assert.AreEqual(7L, Wire.IdOf(Wire.ParseObject("{\"type\":\"ack\",\"id\":7}")));
            Assert.IsNull(Wire.IdOf(Wire.ParseObject("{\"type\":\"ack\",\"id\":\"r1\"}")));
        }
    }
}
