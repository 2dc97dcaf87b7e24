// The real pairlink binary, started by a test on a free port with a fresh SQLite file,
// and stopped, restarted on the same port, frozen (SIGSTOP) and thawed (SIGCONT) by it.

using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using NUnit.Framework;

namespace Pairlink.Tests
{
    public sealed class PairlinkServer : IDisposable
    {
        private static readonly HttpClient Http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        private readonly string[] extraArgs;
        private readonly string directory;
        private Process process;
        private bool frozen;

        /// <param name="extraArgs">More <c>pairlink serve</c> flags, e.g. <c>--hold-for 30s</c>.</param>
        public PairlinkServer(params string[] extraArgs)
        {
            this.extraArgs = extraArgs;
            directory = Path.Combine(Path.GetTempPath(), "pairlink-unity-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            Port = FreePort();
            Start();
        }

        public int Port { get; }

        public string Url { get { return "ws://127.0.0.1:" + Port; } }

        public string HttpUrl { get { return "http://127.0.0.1:" + Port; } }

        /// <summary>The binary: <c>$PAIRLINK_BIN</c>, else <c>target/debug/pairlink</c> of the
        /// checkout these tests are in. Without one the test is ignored (in the Unity editor,
        /// say); scripts/test-sdk-unity.sh always sets it and fails on ignored tests.</summary>
        public static string Binary()
        {
            string path = Environment.GetEnvironmentVariable("PAIRLINK_BIN");
            if (!string.IsNullOrEmpty(path))
            {
                if (!File.Exists(path)) Assert.Fail("PAIRLINK_BIN is " + path + ", which does not exist");
                return path;
            }
            for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "target", "debug", "pairlink");
                if (File.Exists(candidate)) return candidate;
            }
            Assert.Ignore("no pairlink binary: set PAIRLINK_BIN (cargo build --bin pairlink builds target/debug/pairlink)");
            return null;
        }

        public void Start()
        {
            string args = "serve --bind 127.0.0.1:" + Port + " --database-url sqlite://" + Path.Combine(directory, "p.db")
                + " --shutdown-timeout 1s " + string.Join(" ", extraArgs);
            var start = new ProcessStartInfo("/bin/sh", "-c \"exec '" + Binary() + "' " + args + " >> '" + LogPath + "' 2>&1\"")
            {
                UseShellExecute = false,
                WorkingDirectory = directory, // no stray .env is read
            };
            process = Process.Start(start);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                if (process.HasExited) Assert.Fail("pairlink exited with " + process.ExitCode + ":\n" + Log());
                if (Healthy()) return;
                Thread.Sleep(50);
            }
            Assert.Fail("pairlink did not answer /healthz within 30 s:\n" + Log());
        }

        /// <summary>SIGTERM: pairlink closes every WebSocket with 1001 and exits.</summary>
        public void Stop()
        {
            if (process == null) return;
            Thaw();
            if (!process.HasExited)
            {
                Signal("TERM");
                if (!process.WaitForExit(10000)) process.Kill();
            }
            process.WaitForExit();
            process.Dispose();
            process = null;
        }

        /// <summary>Stops and starts again on the same port with the same database.</summary>
        public void Restart()
        {
            Stop();
            Start();
        }

        /// <summary>SIGSTOP: the process stops answering, but the kernel keeps its sockets open.</summary>
        public void Freeze()
        {
            Signal("STOP");
            frozen = true;
        }

        public void Thaw()
        {
            if (!frozen) return;
            Signal("CONT");
            frozen = false;
        }

        public string Log()
        {
            try
            {
                return File.ReadAllText(LogPath);
            }
            catch (IOException e)
            {
                return "(no log: " + e.Message + ")";
            }
        }

        public void Dispose()
        {
            try
            {
                if (process != null && !process.HasExited)
                {
                    Thaw();
                    process.Kill();
                    process.WaitForExit();
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            try
            {
                Directory.Delete(directory, true);
            }
            catch (IOException)
            {
                // A file still held open; the temp directory is cleaned by the system.
            }
        }

        private string LogPath { get { return Path.Combine(directory, "pairlink.log"); } }

        private bool Healthy()
        {
            try
            {
                using (HttpResponseMessage answer = Http.GetAsync(HttpUrl + "/healthz").Result)
                    return answer.StatusCode == HttpStatusCode.OK;
            }
            catch (AggregateException)
            {
                return false;
            }
        }

        private void Signal(string signal)
        {
            using (Process kill = Process.Start(new ProcessStartInfo("kill", "-" + signal + " " + process.Id) { UseShellExecute = false }))
                kill.WaitForExit();
        }

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }
}
