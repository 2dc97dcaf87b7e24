// Runs the app's event handlers where the app's UI code runs: posted to the
// SynchronizationContext that was current when the client was created (Unity's main
// thread), or, without one, one at a time and in order on the thread pool. A handler
// that throws is reported through Error and never reaches the connection.

using System;
using System.Collections.Generic;
using System.Threading;

namespace Pairlink
{
    internal sealed class EventDispatcher
    {
        private readonly SynchronizationContext context;
        private readonly Action<PairlinkException> reportError;
        private readonly object gate = new object();
        private readonly Queue<Action> queue = new Queue<Action>();
        private bool draining;
        private volatile bool stopped;

        /// <param name="context">Where handlers run; null for the thread pool.</param>
        /// <param name="reportError">Raises the Error event; called through this dispatcher.</param>
        public EventDispatcher(SynchronizationContext context, Action<PairlinkException> reportError)
        {
            this.context = context;
            this.reportError = reportError;
        }

        /// <summary>After Stop (the client was disposed) nothing more is delivered.</summary>
        public void Stop()
        {
            stopped = true;
        }

        public void Post(Action handler)
        {
            if (stopped) return;
            if (context != null)
            {
                context.Post(RunPosted, handler);
                return;
            }
            lock (gate)
            {
                queue.Enqueue(handler);
                if (draining) return;
                draining = true;
            }
            ThreadPool.QueueUserWorkItem(Drain);
        }

        private void RunPosted(object handler)
        {
            Run((Action)handler);
        }

        private void Drain(object unused)
        {
            while (true)
            {
                Action next;
                lock (gate)
                {
                    if (queue.Count == 0)
                    {
                        draining = false;
                        return;
                    }
                    next = queue.Dequeue();
                }
                Run(next);
            }
        }

        private void Run(Action handler)
        {
            if (stopped) return;
            try
            {
                handler();
            }
            catch (Exception e)
            {
                var failure = new PairlinkException(ErrorCodes.HandlerFailed, "an event handler threw: " + e.Message, e);
                Post(() => Guarded(failure));
            }
        }

        private void Guarded(PairlinkException failure)
        {
            try
            {
                reportError(failure);
            }
            catch (Exception)
            {
                // An Error handler that throws is ignored rather than reported again in a loop.
            }
        }
    }
}
