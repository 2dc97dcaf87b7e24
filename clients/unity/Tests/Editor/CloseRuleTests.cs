// Which closes end the connection for good and which are retried (CLIENT-SDKS.md).

using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class CloseRuleTests
    {
        private static ReconnectRule Rule(int code, string reason)
        {
            return new CloseReason(code, reason).Rule;
        }

        [Test]
        public void FinalClosesGiveUp()
        {
            Assert.AreEqual(ReconnectRule.Final, Rule(4001, "replaced"));
            Assert.AreEqual(ReconnectRule.Final, Rule(4400, "invalid_uuid"));
            Assert.AreEqual(ReconnectRule.Final, Rule(4403, "origin_not_allowed"));
            Assert.AreEqual(ReconnectRule.Final, Rule(4404, "unknown_code"));
            Assert.AreEqual(ReconnectRule.Final, Rule(1009, "message too big"));
            Assert.AreEqual(ReconnectRule.Final, Rule(1002, ErrorCodes.UnsupportedServer));
            Assert.AreEqual(ReconnectRule.Final, Rule(1002, ErrorCodes.UnsupportedPlatform));
        }

        [Test]
        public void RetryableClosesBackOff()
        {
            foreach (int code in new[] { 1001, 1006, 1011, 1013, 4002, 4429, 4503, 1005, 4999 })
                Assert.AreEqual(ReconnectRule.Backoff, Rule(code, ""), "close " + code);
            Assert.AreEqual(ReconnectRule.Backoff, Rule(4400, "display_offline"));
            Assert.AreEqual(ReconnectRule.AtOnce, Rule(1012, "reconnect: messages may have been missed"));
        }

        [Test]
        public void A4401NeedsAFreshToken()
        {
            Assert.AreEqual(ReconnectRule.FreshToken, Rule(4401, "token_expired"));
            Assert.AreEqual(ReconnectRule.FreshToken, Rule(4401, "token_invalid"));
        }

        [Test]
        public void AReasonBecomesAnExceptionWithItsCode()
        {
            PairlinkException e = new CloseReason(4429, "too_many_guesses", "slow down", System.TimeSpan.FromSeconds(7)).ToException();
            Assert.AreEqual("too_many_guesses", e.Code);
            Assert.AreEqual(7, e.RetryAfterSeconds);
        }
    }
}
