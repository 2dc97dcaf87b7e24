// What the app receives: draws, relay data, presence, the welcome, pairing codes. Each
// is a plain class so that fields pairlink adds later can be added here too.

using System;
using System.Collections.Generic;
using Newtonsoft.Json.Linq;

namespace Pairlink
{
    /// <summary>How pairlink took a difficulty.</summary>
    public enum DrawStatus
    {
        /// <summary>The draw was written to the display's socket.</summary>
        Received,
        /// <summary>Held delivery is on and the display is absent: the draw waits for it.
        /// If it expires first, the controller's <c>DrawExpired</c> event says so.</summary>
        Queued,
    }

    /// <summary>A draw: the quizzes and the action pairlink picked for a difficulty.</summary>
    public sealed class Draw : EventArgs
    {
        public Draw(IReadOnlyList<long> quizIds, long actionId, long difficulty, bool held, DateTimeOffset? sentAt)
        {
            QuizIds = quizIds;
            ActionId = actionId;
            Difficulty = difficulty;
            Held = held;
            SentAt = sentAt;
        }

        /// <summary>Up to 3 distinct quiz ids (fewer if fewer exist at that difficulty).</summary>
        public IReadOnlyList<long> QuizIds { get; }
        public long ActionId { get; }
        /// <summary>The difficulty the controller asked for.</summary>
        public long Difficulty { get; }
        /// <summary>True when pairlink held the draw while this display was away.</summary>
        public bool Held { get; }
        /// <summary>Held draws: when pairlink received the controller's difficulty (UTC).</summary>
        public DateTimeOffset? SentAt { get; }
    }

    /// <summary>JSON relay data from the other side of the pair.</summary>
    public sealed class RelayMessage : EventArgs
    {
        public RelayMessage(JToken data)
        {
            Data = data;
        }

        /// <summary>Exactly the JSON value the other side sent (dates stay strings).</summary>
        public JToken Data { get; }
    }

    /// <summary>Binary relay data from the other side of the pair.</summary>
    public sealed class BinaryRelayMessage : EventArgs
    {
        public BinaryRelayMessage(byte[] data)
        {
            Data = data;
        }

        public byte[] Data { get; }
    }

    /// <summary>The other role of the pair connected (or was replaced by a newer device) or went.</summary>
    public sealed class PeerChange : EventArgs
    {
        public PeerChange(string role, bool connected)
        {
            Role = role;
            Connected = connected;
        }

        /// <summary><c>display</c> or <c>controller</c>: the other side.</summary>
        public string Role { get; }
        public bool Connected { get; }
    }

    /// <summary>A draw that pairlink held for an absent display and dropped when its hold ran out.</summary>
    public sealed class ExpiredDraw : EventArgs
    {
        public ExpiredDraw(long difficulty, string message)
        {
            Difficulty = difficulty;
            Message = message;
        }

        /// <summary>The difficulty of the draw that was answered <see cref="DrawStatus.Queued"/>.</summary>
        public long Difficulty { get; }
        public string Message { get; }
    }

    /// <summary>Something went wrong that no awaited call could report: an error message
    /// from pairlink without a request (a relay to an absent peer, rate limiting), a
    /// message that could not be read, or an app handler that threw.</summary>
    public sealed class PairlinkErrorEventArgs : EventArgs
    {
        public PairlinkErrorEventArgs(PairlinkException exception)
        {
            Exception = exception;
        }

        public PairlinkException Exception { get; }
    }

    /// <summary>The first message of every v2 connection.</summary>
    public sealed class Welcome
    {
        public Welcome(string role, string uuid, bool peer, TimeSpan? idleTimeout, int? maxMessageBytes, TimeSpan? hold)
        {
            Role = role;
            Uuid = uuid;
            Peer = peer;
            IdleTimeout = idleTimeout;
            MaxMessageBytes = maxMessageBytes;
            Hold = hold;
        }

        public string Role { get; }
        /// <summary>The pair's UUID in canonical lowercase form.</summary>
        public string Uuid { get; }
        /// <summary>Whether the other role was connected when this one opened.</summary>
        public bool Peer { get; }
        /// <summary>pairlink closes (4002) a connection it heard nothing from for this long.</summary>
        public TimeSpan? IdleTimeout { get; }
        /// <summary>The largest message pairlink accepts; larger closes with 1009.</summary>
        public int? MaxMessageBytes { get; }
        /// <summary>How long held delivery keeps a draw, or null when it is off.</summary>
        public TimeSpan? Hold { get; }
    }

    /// <summary>A display's pairing code: what the headset shows so that a phone can join.</summary>
    public sealed class PairingCode
    {
        public PairingCode(string code, string uuid, string joinUrl, DateTimeOffset expiresAt, byte[] qrPng)
        {
            Code = code;
            Uuid = uuid;
            JoinUrl = joinUrl;
            ExpiresAt = expiresAt;
            QrPng = qrPng;
        }

        /// <summary>6 characters, shown in capitals, e.g. <c>K7M2QX</c>.</summary>
        public string Code { get; }
        public string Uuid { get; }
        /// <summary><c>ws(s)://HOST/ws/join/CODE</c>, what the QR code holds.</summary>
        public string JoinUrl { get; }
        /// <summary>The code ends then, or earlier when the display disconnects.</summary>
        public DateTimeOffset ExpiresAt { get; }
        /// <summary>The QR code of <see cref="JoinUrl"/> as PNG, for <c>Texture2D.LoadImage</c>.</summary>
        public byte[] QrPng { get; }
    }
}
