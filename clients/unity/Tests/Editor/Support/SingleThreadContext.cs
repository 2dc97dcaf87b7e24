// A SynchronizationContext with one thread, like Unity's main thread: everything posted
// to it runs on that thread, one item at a time, in order.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Pairlink.Tests
{
    public sealed class SingleThreadContext : SynchronizationContext, IDisposable
    {
        private readonly BlockingCollection<KeyValuePair<SendOrPostCallback, object>> queue =
            new BlockingCollection<KeyValuePair<SendOrPostCallback, object>>();
        private readonly Thread thread;

        public SingleThreadContext()
        {
            thread = new Thread(Loop) { IsBackground = true, Name = "test main thread" };
            thread.Start();
        }

        public int ThreadId { get { return thread.ManagedThreadId; } }

        public override void Post(SendOrPostCallback callback, object state)
        {
            queue.Add(new KeyValuePair<SendOrPostCallback, object>(callback, state));
        }

        public override void Send(SendOrPostCallback callback, object state)
        {
            if (Thread.CurrentThread == thread)
            {
                callback(state);
                return;
            }
            using (var done = new ManualResetEventSlim())
            {
                Post(s => { try { callback(s); } finally { done.Set(); } }, state);
                done.Wait();
            }
        }

        /// <summary>Runs <paramref name="work"/> on the context's thread, with the context current,
        /// as Unity runs a MonoBehaviour's async method.</summary>
        public Task<T> Run<T>(Func<Task<T>> work)
        {
            var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            Post(async unused =>
            {
                try
                {
                    result.SetResult(await work());
                }
                catch (Exception e)
                {
                    result.SetException(e);
                }
            }, null);
            return result.Task;
        }

        public bool OnThread { get { return Thread.CurrentThread == thread; } }

        public void Dispose()
        {
            queue.CompleteAdding();
        }

        private void Loop()
        {
            SetSynchronizationContext(this);
            foreach (KeyValuePair<SendOrPostCallback, object> item in queue.GetConsumingEnumerable())
                item.Key(item.Value);
        }
    }
}
