// Where the SDK connects: the WebSocket URLs of a display, a controller and a join, and
// the HTTP URLs of the pairing-code API, all derived from one server URL
// (ws→http, wss→https) that may carry a path prefix for a reverse proxy.

using System;

namespace Pairlink
{
    internal static class Endpoints
    {
        private const string JoinPath = "/ws/join/";
        private const string PagePath = "/join/";

        /// <summary>The server's WebSocket base (<c>ws://HOST:PORT[/prefix]</c>, no trailing slash).
        /// <c>http(s)://</c> is accepted and becomes <c>ws(s)://</c>.</summary>
        public static Uri WebSocketBase(string serverUrl)
        {
            if (serverUrl == null) throw new ArgumentNullException(nameof(serverUrl));
            Uri uri;
            if (!Uri.TryCreate(serverUrl.Trim(), UriKind.Absolute, out uri))
                throw new ArgumentException("'" + serverUrl + "' is not an absolute URL such as ws://192.168.1.20:8080", nameof(serverUrl));
            string scheme;
            switch (uri.Scheme)
            {
                case "ws":
                case "http":
                    scheme = "ws";
                    break;
                case "wss":
                case "https":
                    scheme = "wss";
                    break;
                default:
                    throw new ArgumentException("'" + serverUrl + "' must start with ws://, wss://, http:// or https://", nameof(serverUrl));
            }
            if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
                throw new ArgumentException("'" + serverUrl + "' must not have a query or fragment", nameof(serverUrl));
            var builder = new UriBuilder(uri) { Scheme = scheme, Port = uri.Port };
            builder.Path = builder.Path.TrimEnd('/');
            return builder.Uri;
        }

        /// <summary>The HTTP base of the same server: ws→http, wss→https.</summary>
        public static Uri HttpBase(Uri webSocketBase)
        {
            var builder = new UriBuilder(webSocketBase)
            {
                Scheme = webSocketBase.Scheme == "wss" ? "https" : "http",
                Port = webSocketBase.Port,
            };
            return builder.Uri;
        }

        public static Uri Display(Uri webSocketBase, string uuid)
        {
            return Under(webSocketBase, "/ws/difficulty/unity/" + Uri.EscapeDataString(uuid));
        }

        public static Uri Controller(Uri webSocketBase, string uuid)
        {
            return Under(webSocketBase, "/ws/difficulty/android/" + Uri.EscapeDataString(uuid));
        }

        public static Uri Join(Uri webSocketBase, string code)
        {
            return Under(webSocketBase, JoinPath + Uri.EscapeDataString(code));
        }

        public static Uri PairingCodeRequest(Uri httpBase, string uuid)
        {
            return Under(httpBase, "/api/pairings/" + Uri.EscapeDataString(uuid) + "/code");
        }

        public static Uri QrPng(Uri httpBase, string code)
        {
            return Under(httpBase, "/api/pairings/code/" + Uri.EscapeDataString(code) + "/qr.png?target=page");
        }

        /// <summary>Splits a join URL (what the display's QR code holds) into the server's base and the code.</summary>
        public static void ParseJoinUrl(string joinUrl, out Uri webSocketBase, out string code)
        {
            if (joinUrl == null) throw new ArgumentNullException(nameof(joinUrl));
            // The WebSocket join URL (…/ws/join/CODE) or the phone page's (…/join/CODE).
            string path = JoinPath;
            int at = joinUrl.LastIndexOf(path, StringComparison.Ordinal);
            if (at < 0)
            {
                path = PagePath;
                at = joinUrl.LastIndexOf(path, StringComparison.Ordinal);
            }
            if (at < 0) throw new ArgumentException("'" + joinUrl + "' is not a join URL (…/ws/join/CODE or …/join/CODE)", nameof(joinUrl));
            code = CheckCode(Uri.UnescapeDataString(joinUrl.Substring(at + path.Length)), nameof(joinUrl));
            webSocketBase = WebSocketBase(joinUrl.Substring(0, at));
        }

        /// <summary>A pairing code is letters and digits; whether it is a live one is pairlink's to say (4404).</summary>
        public static string CheckCode(string code, string parameter)
        {
            if (string.IsNullOrEmpty(code)) throw new ArgumentException("the pairing code is empty", parameter);
            foreach (char c in code)
            {
                bool alphanumeric = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                if (!alphanumeric) throw new ArgumentException("'" + code + "' is not a pairing code: letters and digits only", parameter);
            }
            return code.ToUpperInvariant();
        }

        public static string CheckUuid(string uuid, string parameter)
        {
            if (uuid == null) throw new ArgumentNullException(parameter);
            if (uuid.Trim().Length == 0) throw new ArgumentException("the UUID is empty", parameter);
            return uuid;
        }

        private static Uri Under(Uri root, string path)
        {
            return new Uri(root.GetLeftPart(UriPartial.Authority) + root.AbsolutePath.TrimEnd('/') + path);
        }
    }
}
