// The base of tests against the real server: starts servers and clients, runs a test
// body with a bound on its whole length, and closes everything afterwards.

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Pairlink.Tests
{
    public abstract class ServerTest
    {
        private readonly List<IDisposable> owned = new List<IDisposable>();
        private readonly List<PairlinkServer> servers = new List<PairlinkServer>();

        [TearDown]
        public void CloseEverything()
        {
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
            owned.Clear();
            servers.Clear();
        }

        protected PairlinkServer Server(params string[] flags)
        {
            var server = new PairlinkServer(flags);
            owned.Add(server);
            servers.Add(server);
            return server;
        }

        /// <summary>Options that reconnect quickly, so that tests stay short.</summary>
        protected static PairlinkOptions Quick()
        {
            return new PairlinkOptions
            {
                ReconnectBaseDelay = TimeSpan.FromMilliseconds(50),
                ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
                ConnectTimeout = TimeSpan.FromSeconds(5),
            };
        }

        protected static string NewUuid()
        {
            return Guid.NewGuid().ToString();
        }

        protected PairlinkDisplay Display(PairlinkServer server, string uuid, PairlinkOptions options = null)
        {
            return Own(new PairlinkDisplay(server.Url, uuid, options ?? Quick()));
        }

        protected PairlinkController Controller(PairlinkServer server, string uuid, PairlinkOptions options = null)
        {
            return Own(new PairlinkController(server.Url, uuid, options ?? Quick()));
        }

        /// <summary>A display and its controller on one UUID, both open, with their recorders.</summary>
        protected sealed class Pair
        {
            public string Uuid;
            public PairlinkDisplay Display;
            public Recorder Shown;
            public PairlinkController Controller;
            public Recorder Phone;
        }

        /// <summary>Connects a display, then its controller (the display comes first).</summary>
        protected async Task<Pair> OpenPair(PairlinkServer server, PairlinkOptions options = null)
        {
            var pair = new Pair { Uuid = NewUuid() };
            pair.Display = Display(server, pair.Uuid, options);
            pair.Shown = new Recorder(pair.Display, "display");
            await pair.Display.ConnectAsync();
            pair.Controller = Controller(server, pair.Uuid, options);
            pair.Phone = new Recorder(pair.Controller, "controller");
            await pair.Controller.ConnectAsync();
            return pair;
        }

        protected T Own<T>(T client) where T : IDisposable
        {
            owned.Add(client);
            return client;
        }

        /// <summary>Runs an async test body on the thread pool (no context) and waits for it.</summary>
        protected void Run(Func<Task> body)
        {
            Task test = Task.Run(body);
            try
            {
                if (!test.Wait(TimeSpan.FromSeconds(120)))
                    Assert.Fail("the test did not finish within 120 s" + ServerLogs());
            }
            catch (AggregateException e)
            {
                Exception inner = e.InnerException;
                if (inner is AssertionException || inner is IgnoreException) throw inner;
                Assert.Fail(inner + ServerLogs());
            }
        }

        /// <summary>Awaits a task that must fail with a PairlinkException; returns it.</summary>
        protected static async Task<PairlinkException> Throws(Task task)
        {
            if (await Task.WhenAny(task, Task.Delay(Recorder.Patience)) != task)
                Assert.Fail("no answer within " + Recorder.Patience.TotalSeconds + " s");
            try
            {
                await task;
            }
            catch (PairlinkException e)
            {
                return e;
            }
            Assert.Fail("expected a PairlinkException");
            return null;
        }

        private string ServerLogs()
        {
            string logs = "";
            foreach (PairlinkServer server in servers) logs += "\n--- pairlink log ---\n" + server.Log();
            return logs;
        }
    }
}
