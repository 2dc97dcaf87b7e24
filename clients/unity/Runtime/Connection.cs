// The connection's life: connect, open on pairlink's welcome, reconnect with backoff
// after a retryable close, give up after a final one, and stop when the app closes,
// pauses or disposes. It owns the state; what messages mean is the client's business.

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace Pairlink
{
    internal sealed class Connection
    {
        /// <summary>What a finished connection attempt tells the reconnect loop.</summary>
        private sealed class Outcome
        {
            public CloseReason Reason;
            public TimeSpan OpenFor;
            public bool WasOpen;
        }

        private readonly PairlinkClient owner;
        private readonly PairlinkOptions options;
        private readonly Backoff backoff;
        private readonly object gate = new object();
        private readonly List<TaskCompletionSource<bool>> openWaiters = new List<TaskCompletionSource<bool>>();
        private ConnectionState state = ConnectionState.Idle;
        private CancellationTokenSource runStop;
        private Task runTask;
        private Session current;
        private bool disposed;
        /// <summary>Stopped by Pause: Resume starts again.</summary>
        private bool paused;
        private long lastId;

        public Connection(PairlinkClient owner, PairlinkOptions options)
        {
            this.owner = owner;
            this.options = options;
            backoff = new Backoff(options.ReconnectBaseDelay, options.ReconnectMaxDelay);
        }

        public ConnectionState State
        {
            get { lock (gate) return state; }
        }

        /// <summary>The open session, or a <c>not_connected</c> error.</summary>
        public Session OpenSession()
        {
            lock (gate)
            {
                if (disposed) throw new ObjectDisposedException(owner.GetType().Name);
                if (current == null)
                    throw new PairlinkException(ErrorCodes.NotConnected, "the connection is not open (" + state + ")");
                return current;
            }
        }

        /// <summary>Request ids: one counter for difficulties and pings, so they never collide.</summary>
        public long NextId()
        {
            return Interlocked.Increment(ref lastId);
        }

        /// <summary>Starts connecting unless already running; completes on the first Open,
        /// fails when the connection closes for good first. The token cancels the wait only.</summary>
        public Task ConnectAsync(CancellationToken cancellationToken)
        {
            var waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                if (disposed) throw new ObjectDisposedException(owner.GetType().Name);
                if (state.Kind == ConnectionStateKind.Open) return Task.FromResult(true);
                openWaiters.Add(waiter);
                if (runTask == null) StartLocked();
            }
            if (cancellationToken.CanBeCanceled)
            {
                CancellationTokenRegistration registration = cancellationToken.Register(() =>
                {
                    lock (gate) openWaiters.Remove(waiter);
                    waiter.TrySetCanceled();
                });
                waiter.Task.ContinueWith(t => registration.Dispose(), TaskScheduler.Default);
            }
            return waiter.Task;
        }

        /// <summary>Resume after Pause: reconnects if the connection was paused, else does nothing.</summary>
        public void Resume()
        {
            lock (gate)
            {
                if (disposed || !paused || runTask != null) return;
                StartLocked();
            }
        }

        /// <summary>Stops connecting and ends the open connection (a close frame first when
        /// <paramref name="graceful"/>). The state becomes Closed(<paramref name="reason"/>)
        /// at once; the task completes when the socket is closed. A pause keeps ConnectAsync
        /// callers waiting for Resume; any other stop fails them.</summary>
        public async Task StopAsync(CloseReason reason, bool graceful, bool dispose)
        {
            Session session;
            Task run;
            bool pausing;
            lock (gate)
            {
                if (dispose) disposed = true;
                run = runTask;
                session = current;
                pausing = run != null && !dispose && reason.Reason == CloseReason.PausedReason;
                if (run != null)
                {
                    runStop.Cancel();
                    runTask = null;
                    current = null;
                    paused = pausing;
                    SetStateLocked(ConnectionState.Closed(reason));
                }
            }
            if (!pausing) FailWaiters(reason);
            if (run == null) return;
            if (session != null)
            {
                if (graceful)
                {
                    await session.CloseAsync(reason.Code, reason.Reason, options.CloseTimeout).ConfigureAwait(false);
                    // The loop ends when pairlink's close frame arrives; drop a silent socket.
                    if (await Task.WhenAny(run, Task.Delay(options.CloseTimeout)).ConfigureAwait(false) != run) session.Kill(reason);
                }
                else
                {
                    session.Kill(reason);
                }
            }
            try
            {
                await run.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The loop reports its own failures; nothing is left to report here.
            }
        }

        private void StartLocked()
        {
            paused = false;
            runStop = new CancellationTokenSource();
            CancellationToken stop = runStop.Token;
            SetStateLocked(ConnectionState.Connecting);
            runTask = Task.Run(() => RunGuardedAsync(stop));
        }

        /// <summary>A bug in the loop must not leave the state stuck: it ends Closed(internal_error).</summary>
        private async Task RunGuardedAsync(CancellationToken stop)
        {
            try
            {
                await RunAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                GiveUp(new CloseReason(1011, ErrorCodes.InternalError, e.ToString()), stop);
            }
        }

        private async Task RunAsync(CancellationToken stop)
        {
            int attempt = 0;
            bool freshTokenNeeded = false; // the last refusal was a 4401 and no open came since
            while (!stop.IsCancellationRequested)
            {
                Outcome outcome = await OneConnectionAsync(freshTokenNeeded, stop).ConfigureAwait(false);
                if (outcome == null || stop.IsCancellationRequested) return; // stopped by the app
                if (outcome.WasOpen) freshTokenNeeded = false;
                if (outcome.OpenFor >= options.BackoffResetAfter) attempt = 0;

                CloseReason reason = outcome.Reason;
                ReconnectRule rule = reason.Rule;
                if (rule == ReconnectRule.FreshToken)
                {
                    if (options.TokenProvider == null || freshTokenNeeded) rule = ReconnectRule.Final;
                    freshTokenNeeded = true;
                }
                if (rule == ReconnectRule.Final)
                {
                    GiveUp(reason, stop);
                    return;
                }
                attempt++;
                TimeSpan delay = rule == ReconnectRule.AtOnce ? TimeSpan.Zero : backoff.Delay(attempt);
                if (reason.RetryAfter.HasValue && reason.RetryAfter.Value > delay) delay = reason.RetryAfter.Value;
                lock (gate)
                {
                    if (stop.IsCancellationRequested) return;
                    SetStateLocked(ConnectionState.Reconnecting(attempt, delay, reason));
                }
                try
                {
                    await Task.Delay(delay, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>One connection, from the token to its end; null when the app stopped it.</summary>
        private async Task<Outcome> OneConnectionAsync(bool freshTokenNeeded, CancellationToken stop)
        {
            string token;
            try
            {
                token = await options.NextTokenAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                if (stop.IsCancellationRequested) return null;
                return Failed(freshTokenNeeded
                    ? new CloseReason(4401, "token_unavailable", "the token provider failed after a 4401: " + e.Message)
                    : CloseReason.Lost("token_unavailable", "the token provider failed: " + e.Message));
            }
            if (freshTokenNeeded && string.IsNullOrEmpty(token))
                return Failed(new CloseReason(4401, "token_unavailable", "the token provider gave no new token after a 4401"));

            Session session;
            try
            {
                session = await Session.ConnectAsync(owner.Endpoint(), token, options.ConnectTimeout, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            catch (SessionRefused refused)
            {
                return Failed(refused.Reason);
            }
            using (session)
            {
                try
                {
                    return await RunSessionAsync(session, stop).ConfigureAwait(false);
                }
                finally
                {
                    lock (gate)
                    {
                        if (current == session) current = null;
                    }
                    session.Pending.FailAll(new PairlinkException(ErrorCodes.ConnectionLost,
                        "the connection dropped before pairlink answered; the request was not sent again"));
                }
            }
        }

        private async Task<Outcome> RunSessionAsync(Session session, CancellationToken stop)
        {
            Welcome welcome = await session.AwaitWelcomeAsync(options.ConnectTimeout, stop).ConfigureAwait(false);
            if (welcome == null)
                return stop.IsCancellationRequested ? null : Failed(session.EndReason());

            session.OpenedAtUtc = DateTime.UtcNow;
            if (welcome.MaxMessageBytes.HasValue) session.MaxMessageBytes = welcome.MaxMessageBytes.Value;
            lock (gate)
            {
                if (stop.IsCancellationRequested) return null;
                current = session;
                owner.OnWelcome(welcome);
                SetStateLocked(ConnectionState.Open);
                owner.OnOpened(welcome);
            }
            CompleteWaiters();
            Task pings = session.RunPingsAsync(PingInterval(welcome), NextId);

            while (true)
            {
                Frame frame = await session.ReceiveAsync(CancellationToken.None).ConfigureAwait(false);
                if (frame == null) break;
                if (frame.Binary != null)
                {
                    owner.OnBinary(frame.Binary);
                    continue;
                }
                JObject message;
                try
                {
                    message = Wire.ParseObject(frame.Text);
                }
                catch (FormatException e)
                {
                    owner.ReportError(new PairlinkException(ErrorCodes.InvalidMessage, "a message from pairlink was skipped: " + e.Message));
                    continue;
                }
                owner.OnMessage(message, session);
            }
            session.Dispose(); // ends the ping loop
            await pings.ConfigureAwait(false);
            if (stop.IsCancellationRequested) return null;
            return new Outcome
            {
                Reason = session.EndReason(),
                WasOpen = true,
                OpenFor = DateTime.UtcNow - session.OpenedAtUtc,
            };
        }

        /// <summary>The configured interval, at most a third of pairlink's idle timeout.</summary>
        private TimeSpan PingInterval(Welcome welcome)
        {
            TimeSpan interval = options.PingInterval;
            if (welcome.IdleTimeout.HasValue)
            {
                TimeSpan third = TimeSpan.FromTicks(welcome.IdleTimeout.Value.Ticks / 3);
                if (third > TimeSpan.Zero && third < interval) interval = third;
            }
            return interval;
        }

        private void GiveUp(CloseReason reason, CancellationToken stop)
        {
            lock (gate)
            {
                if (stop.IsCancellationRequested) return;
                runTask = null;
                SetStateLocked(ConnectionState.Closed(reason));
            }
            FailWaiters(reason);
        }

        private static Outcome Failed(CloseReason reason)
        {
            return new Outcome { Reason = reason };
        }

        private void SetStateLocked(ConnectionState next)
        {
            ConnectionState previous = state;
            state = next;
            owner.OnStateChanged(previous, next);
        }

        private void CompleteWaiters()
        {
            foreach (TaskCompletionSource<bool> waiter in TakeWaiters()) waiter.TrySetResult(true);
        }

        private void FailWaiters(CloseReason reason)
        {
            foreach (TaskCompletionSource<bool> waiter in TakeWaiters()) waiter.TrySetException(reason.ToException());
        }

        private List<TaskCompletionSource<bool>> TakeWaiters()
        {
            lock (gate)
            {
                var taken = new List<TaskCompletionSource<bool>>(openWaiters);
                openWaiters.Clear();
                return taken;
            }
        }
    }
}
