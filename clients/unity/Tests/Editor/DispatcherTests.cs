// Event delivery without a server: order, one handler at a time, and a throwing handler
// reported through Error.

using System;
using System.Collections.Generic;
using System.Threading;
using NUnit.Framework;

namespace Pairlink.Tests
{
    [TestFixture]
    public class DispatcherTests
    {
        [Test]
        public void WithoutAContextHandlersRunInOrderOneAtATime()
        {
            var seen = new List<int>();
            int running = 0, overlaps = 0;
            var done = new ManualResetEventSlim();
            var dispatcher = new EventDispatcher(null, e => { });
            for (int i = 0; i < 500; i++)
            {
                int n = i;
                dispatcher.Post(() =>
                {
                    if (Interlocked.Increment(ref running) > 1) Interlocked.Increment(ref overlaps);
                    lock (seen) seen.Add(n);
                    Interlocked.Decrement(ref running);
                    if (n == 499) done.Set();
                });
            }
            Assert.IsTrue(done.Wait(TimeSpan.FromSeconds(30)));
            Assert.AreEqual(0, overlaps);
            for (int i = 0; i < 500; i++) Assert.AreEqual(i, seen[i]);
        }

        [Test]
        public void AThrowingHandlerIsReportedAndTheNextOneStillRuns()
        {
            PairlinkException reported = null;
            var done = new ManualResetEventSlim();
            var nextRan = new ManualResetEventSlim();
            var dispatcher = new EventDispatcher(null, e => { reported = e; done.Set(); });
            dispatcher.Post(() => { throw new InvalidOperationException("app bug"); });
            dispatcher.Post(nextRan.Set);
            Assert.IsTrue(done.Wait(TimeSpan.FromSeconds(30)), "the failure is reported");
            Assert.IsTrue(nextRan.Wait(TimeSpan.FromSeconds(30)), "the next handler still runs");
            Assert.AreEqual(ErrorCodes.HandlerFailed, reported.Code);
            Assert.IsInstanceOf<InvalidOperationException>(reported.InnerException);
        }

        [Test]
        public void AThrowingErrorHandlerIsNotReportedInALoop()
        {
            int calls = 0;
            var dispatcher = new EventDispatcher(null, e => { Interlocked.Increment(ref calls); throw new Exception("again"); });
            var after = new ManualResetEventSlim();
            dispatcher.Post(() => { throw new Exception("first"); });
            Assert.IsTrue(SpinWait.SpinUntil(() => Volatile.Read(ref calls) >= 1, TimeSpan.FromSeconds(30)));
            // Had the Error handler's own exception been reported, that report would run before this marker.
            dispatcher.Post(after.Set);
            Assert.IsTrue(after.Wait(TimeSpan.FromSeconds(30)));
            Assert.AreEqual(1, calls);
        }
    }
}
