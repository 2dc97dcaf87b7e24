// Protocol v2 on the wire: the JSON pairlink sends and the JSON the SDK sends, and
// nothing else. Parsing keeps strings as strings (no date guessing) so that relayed
// data reaches the app exactly as it was sent.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Pairlink
{
    internal static class Wire
    {
        public const string Subprotocol = "pairlink.v2";

        /// <summary>One text frame as a JSON object; a FormatException when it is not one.</summary>
        public static JObject ParseObject(string text)
        {
            JToken token;
            try
            {
                using (var reader = new JsonTextReader(new StringReader(text)))
                {
                    reader.DateParseHandling = DateParseHandling.None;
                    token = JToken.ReadFrom(reader);
                    if (reader.Read() && reader.TokenType != JsonToken.Comment)
                        throw new FormatException("text after the JSON value");
                }
            }
            catch (JsonException e)
            {
                throw new FormatException("not JSON: " + e.Message, e);
            }
            var obj = token as JObject;
            if (obj == null) throw new FormatException("not a JSON object");
            return obj;
        }

        public static string TypeOf(JObject message)
        {
            return message.Value<string>("type") ?? "";
        }

        /// <summary>The request id the SDK gave (always an integer), or null.</summary>
        public static long? IdOf(JObject message)
        {
            JToken id = message["id"];
            if (id == null || id.Type != JTokenType.Integer) return null;
            return id.Value<long>();
        }

        public static string Difficulty(long difficulty, long id)
        {
            var message = new JObject();
            message["type"] = "difficulty";
            message["difficulty"] = difficulty;
            message["id"] = id;
            return message.ToString(Formatting.None);
        }

        public static string Relay(JToken data)
        {
            var message = new JObject();
            message["type"] = "relay";
            message["data"] = data ?? JValue.CreateNull();
            return message.ToString(Formatting.None);
        }

        public static string Ping(long id)
        {
            var message = new JObject();
            message["type"] = "ping";
            message["id"] = id;
            return message.ToString(Formatting.None);
        }

        public static Welcome ReadWelcome(JObject m)
        {
            string role = RequiredString(m, "role");
            string uuid = RequiredString(m, "uuid");
            bool peer = m.Value<bool?>("peer") ?? false;
            long? idleMs = OptionalLong(m, "idle_timeout_ms");
            long? maxBytes = OptionalLong(m, "max_message_bytes");
            long? holdMs = OptionalLong(m, "hold_ms");
            return new Welcome(
                role,
                uuid,
                peer,
                idleMs.HasValue ? TimeSpan.FromMilliseconds(idleMs.Value) : (TimeSpan?)null,
                maxBytes.HasValue ? (int)Math.Min(maxBytes.Value, int.MaxValue) : (int?)null,
                holdMs.HasValue ? TimeSpan.FromMilliseconds(holdMs.Value) : (TimeSpan?)null);
        }

        public static Draw ReadDraw(JObject m)
        {
            var quizzes = m["quiz_id"] as JArray;
            if (quizzes == null) throw new FormatException("a draw without quiz_id");
            var ids = new List<long>(quizzes.Count);
            foreach (JToken quiz in quizzes)
            {
                if (quiz.Type != JTokenType.Integer) throw new FormatException("a quiz id that is not an integer");
                ids.Add(quiz.Value<long>());
            }
            long? action = OptionalLong(m, "action_id");
            if (!action.HasValue) throw new FormatException("a draw without action_id");
            bool held = m.Value<bool?>("held") ?? false;
            DateTimeOffset? sentAt = null;
            string sent = m.Value<string>("sent_at");
            if (sent != null)
            {
                DateTimeOffset parsed;
                if (!DateTimeOffset.TryParse(sent, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out parsed))
                    throw new FormatException("sent_at is not a time: " + sent);
                sentAt = parsed;
            }
            return new Draw(ids.AsReadOnly(), action.Value, OptionalLong(m, "difficulty") ?? 0, held, sentAt);
        }

        public static PeerChange ReadPeer(JObject m)
        {
            JToken connected = m["connected"];
            if (connected == null || connected.Type != JTokenType.Boolean) throw new FormatException("a peer message without connected");
            return new PeerChange(RequiredString(m, "role"), connected.Value<bool>());
        }

        /// <summary>An <c>error</c> message as the exception it reports.</summary>
        public static PairlinkException ReadError(JObject m)
        {
            string code = m.Value<string>("code") ?? "unknown";
            var e = new PairlinkException(code, m.Value<string>("message") ?? code);
            long? retryAfter = OptionalLong(m, "retry_after");
            if (retryAfter.HasValue) e.RetryAfterSeconds = (int)Math.Min(retryAfter.Value, int.MaxValue);
            return e;
        }

        private static string RequiredString(JObject m, string field)
        {
            JToken value = m[field];
            if (value == null || value.Type != JTokenType.String) throw new FormatException("'" + field + "' missing or not a string");
            return value.Value<string>();
        }

        private static long? OptionalLong(JObject m, string field)
        {
            JToken value = m[field];
            if (value == null || value.Type == JTokenType.Null) return null;
            if (value.Type != JTokenType.Integer) throw new FormatException("'" + field + "' is not an integer");
            return value.Value<long>();
        }
    }
}
