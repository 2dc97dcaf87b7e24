// Records every event a client raises, with the thread it ran on, and lets a test wait
// for the one it expects. Waits are bounded so that a broken SDK fails instead of hanging;
// the bound is generous and is never what a test asserts.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Pairlink.Tests
{
    public sealed class Recorder
    {
        public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

        private sealed class Waiter
        {
            public Func<object, bool> Match;
            public TaskCompletionSource<object> Found;
        }

        private readonly object gate = new object();
        private readonly List<object> events = new List<object>();
        private readonly List<int> threads = new List<int>();
        private readonly List<Waiter> waiters = new List<Waiter>();
        private readonly string name;
        private readonly PairlinkClient client;

        public Recorder(PairlinkClient client, string name)
        {
            this.name = name;
            this.client = client;
            client.StateChanged += (s, e) => Add(e.Current);
            client.RelayReceived += (s, e) => Add(e);
            client.BinaryRelayReceived += (s, e) => Add(e);
            client.PeerChanged += (s, e) => Add(e);
            client.Error += (s, e) => Add(e.Exception);
            var display = client as PairlinkDisplay;
            if (display != null) display.DrawReceived += (s, e) => Add(e);
            var controller = client as PairlinkController;
            if (controller != null) controller.DrawExpired += (s, e) => Add(e);
        }

        /// <summary>How many events have been delivered so far.</summary>
        public int Count
        {
            get { lock (gate) return events.Count; }
        }

        /// <summary>How many events the client has raised so far, once all of them are delivered
        /// (events are posted, so some may still be on their way): pass it to a wait to skip
        /// what came before.</summary>
        public Task<int> Settle()
        {
            var settled = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            client.Post(() => settled.SetResult(Count)); // delivered after every event raised before it
            return settled.Task;
        }

        public List<T> All<T>()
        {
            lock (gate) return events.OfType<T>().ToList();
        }

        public List<int> Threads()
        {
            lock (gate) return threads.ToList();
        }

        /// <summary>The first event of type T matching <paramref name="match"/> at or after index <paramref name="since"/>.</summary>
        public async Task<T> WaitFor<T>(Func<T, bool> match, string what, int since = 0) where T : class
        {
            var waiter = new Waiter
            {
                Match = o => o is T && match((T)o),
                Found = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously),
            };
            lock (gate)
            {
                for (int i = since; i < events.Count; i++)
                    if (waiter.Match(events[i])) return (T)events[i];
                waiters.Add(waiter);
            }
            Task done = await Task.WhenAny(waiter.Found.Task, Task.Delay(Patience)).ConfigureAwait(false);
            if (done != waiter.Found.Task)
            {
                lock (gate) waiters.Remove(waiter);
                Assert.Fail(name + ": no " + what + " within " + Patience.TotalSeconds + " s; events were:\n" + Describe());
            }
            return (T)waiter.Found.Task.Result;
        }

        public Task<ConnectionState> WaitForState(ConnectionStateKind kind, int since = 0)
        {
            return WaitFor<ConnectionState>(s => s.Kind == kind, kind + " state", since);
        }

        public string Describe()
        {
            var text = new StringBuilder();
            lock (gate)
                foreach (object e in events) text.Append("  ").Append(Show(e)).Append('\n');
            return text.ToString();
        }

        private void Add(object e)
        {
            List<Waiter> matched = new List<Waiter>();
            lock (gate)
            {
                events.Add(e);
                threads.Add(Thread.CurrentThread.ManagedThreadId);
                foreach (Waiter waiter in waiters)
                    if (waiter.Match(e)) matched.Add(waiter);
                foreach (Waiter waiter in matched) waiters.Remove(waiter);
            }
            foreach (Waiter waiter in matched) waiter.Found.TrySetResult(e);
        }

        private static string Show(object e)
        {
            var draw = e as Draw;
            if (draw != null) return "Draw(difficulty " + draw.Difficulty + ", held " + draw.Held + ")";
            var relay = e as RelayMessage;
            if (relay != null) return "Relay(" + relay.Data.ToString(Newtonsoft.Json.Formatting.None) + ")";
            var binary = e as BinaryRelayMessage;
            if (binary != null) return "BinaryRelay(" + binary.Data.Length + " bytes)";
            var peer = e as PeerChange;
            if (peer != null) return "Peer(" + peer.Role + ", " + peer.Connected + ")";
            return e.ToString();
        }
    }
}
