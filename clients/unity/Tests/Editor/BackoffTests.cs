// Reconnect delays: full jitter under a doubling ceiling, capped.

using System;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class BackoffTests
    {
        [Test]
        public void CeilingDoublesFromTheBaseUpToTheCap()
        {
            var backoff = new Backoff(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));
            Assert.AreEqual(TimeSpan.FromMilliseconds(500), backoff.Ceiling(1));
            Assert.AreEqual(TimeSpan.FromSeconds(1), backoff.Ceiling(2));
            Assert.AreEqual(TimeSpan.FromSeconds(16), backoff.Ceiling(6));
            Assert.AreEqual(TimeSpan.FromSeconds(30), backoff.Ceiling(7));
            Assert.AreEqual(TimeSpan.FromSeconds(30), backoff.Ceiling(10000));
        }

        [Test]
        public void DelaysAreSpreadBetweenZeroAndTheCeiling()
        {
            var backoff = new Backoff(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30), new Random(7));
            TimeSpan least = TimeSpan.MaxValue, most = TimeSpan.Zero;
            for (int i = 0; i < 1000; i++)
            {
                TimeSpan delay = backoff.Delay(4);
                Assert.That(delay, Is.GreaterThanOrEqualTo(TimeSpan.Zero));
                Assert.That(delay, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(4)));
                if (delay < least) least = delay;
                if (delay > most) most = delay;
            }
            // Full jitter: the whole range is used, not just its top.
            Assert.That(least, Is.LessThan(TimeSpan.FromMilliseconds(400)));
            Assert.That(most, Is.GreaterThan(TimeSpan.FromMilliseconds(3600)));
        }

        [Test]
        public void BadSettingsAreRefused()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.Zero, TimeSpan.FromSeconds(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
            var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
            Assert.Throws<ArgumentOutOfRangeException>(() => backoff.Delay(0));
        }

        [Test]
        public void OptionsAreCheckedWhenAClientIsMade()
        {
            Assert.Throws<ArgumentException>(() => new PairlinkDisplay("ws://127.0.0.1:1", "u",
                new PairlinkOptions { Token = "t", TokenProvider = ct => System.Threading.Tasks.Task.FromResult("t") }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new PairlinkDisplay("ws://127.0.0.1:1", "u",
                new PairlinkOptions { PingInterval = TimeSpan.Zero }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new PairlinkDisplay("ws://127.0.0.1:1", "u",
                new PairlinkOptions { ReconnectMaxDelay = TimeSpan.FromMilliseconds(1) }));
        }
    }
}
