// Reconnect delays: exponential with full jitter (a base of 0.5 s, capped at 30 s), so
// that many headsets dropped by one server restart do not all come back at once.

using System;

namespace Pairlink
{
    internal sealed class Backoff
    {
        private readonly TimeSpan baseDelay;
        private readonly TimeSpan maxDelay;
        private readonly Random random;
        private readonly object gate = new object();

        public Backoff(TimeSpan baseDelay, TimeSpan maxDelay, Random random = null)
        {
            if (baseDelay <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(baseDelay), "must be positive");
            if (maxDelay < baseDelay) throw new ArgumentOutOfRangeException(nameof(maxDelay), "must be at least the base delay");
            this.baseDelay = baseDelay;
            this.maxDelay = maxDelay;
            this.random = random ?? new Random();
        }

        /// <summary>The ceiling for an attempt: base × 2^(attempt − 1), at most the cap.</summary>
        public TimeSpan Ceiling(int attempt)
        {
            if (attempt < 1) throw new ArgumentOutOfRangeException(nameof(attempt), "attempts count from 1");
            // Past 2^30 the cap has long been reached; stop doubling before the ticks overflow.
            int doublings = Math.Min(attempt - 1, 30);
            double ticks = baseDelay.Ticks * Math.Pow(2, doublings);
            return ticks >= maxDelay.Ticks ? maxDelay : TimeSpan.FromTicks((long)ticks);
        }

        /// <summary>Full jitter: uniformly between zero and the attempt's ceiling.</summary>
        public TimeSpan Delay(int attempt)
        {
            TimeSpan ceiling = Ceiling(attempt);
            double fraction;
            lock (gate) fraction = random.NextDouble();
            return TimeSpan.FromTicks((long)(ceiling.Ticks * fraction));
        }
    }
}
