// Difficulty requests waiting for their answer on one connection. When the connection
// ends they fail with connection_lost and are forgotten: never sent again.

using System.Collections.Generic;
using System.Threading.Tasks;

namespace Pairlink
{
    internal sealed class PendingRequests
    {
        private sealed class Request
        {
            public TaskCompletionSource<DrawStatus> Answer;
            public long Difficulty;
        }

        private readonly object gate = new object();
        private readonly Dictionary<long, Request> waiting = new Dictionary<long, Request>();
        /// <summary>Draws answered queued, by id: an <c>expired</c> error may follow for them.</summary>
        private readonly Dictionary<long, long> queued = new Dictionary<long, long>();
        private PairlinkException ended;

        /// <summary>Registers a request; fails at once if the connection has already ended.</summary>
        public Task<DrawStatus> Add(long id, long difficulty)
        {
            var answer = new TaskCompletionSource<DrawStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                if (ended != null)
                {
                    answer.SetException(ended);
                    return answer.Task;
                }
                waiting[id] = new Request { Answer = answer, Difficulty = difficulty };
            }
            return answer.Task;
        }

        /// <summary>An <c>ack</c>; false when no request has that id.</summary>
        public bool Acknowledge(long id, DrawStatus status)
        {
            Request request;
            lock (gate)
            {
                if (!waiting.TryGetValue(id, out request)) return false;
                waiting.Remove(id);
                if (status == DrawStatus.Queued) queued[id] = request.Difficulty;
            }
            request.Answer.TrySetResult(status);
            return true;
        }

        /// <summary>An <c>error</c> with an id; false when no request waits for it.</summary>
        public bool Fail(long id, PairlinkException error)
        {
            Request request;
            lock (gate)
            {
                if (!waiting.TryGetValue(id, out request)) return false;
                waiting.Remove(id);
            }
            request.Answer.TrySetException(error);
            return true;
        }

        /// <summary>An <c>expired</c> error for a draw that was answered queued.</summary>
        public bool TakeQueued(long id, out long difficulty)
        {
            lock (gate)
            {
                if (!queued.TryGetValue(id, out difficulty)) return false;
                queued.Remove(id);
                return true;
            }
        }

        /// <summary>The request is no longer awaited (its caller cancelled).</summary>
        public void Forget(long id)
        {
            lock (gate) waiting.Remove(id);
        }

        /// <summary>The connection ended: every waiting request fails with <paramref name="error"/>.</summary>
        public void FailAll(PairlinkException error)
        {
            List<Request> failed;
            lock (gate)
            {
                if (ended != null) return;
                ended = error;
                failed = new List<Request>(waiting.Values);
                waiting.Clear();
                queued.Clear();
            }
            foreach (Request request in failed) request.Answer.TrySetException(error);
        }
    }
}
