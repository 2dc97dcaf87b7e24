// The pairing-code API over HTTP: POST /api/pairings/{uuid}/code for the code and join
// URL, then GET /api/pairings/code/{code}/qr.png for the QR code a headset shows.

using System;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace Pairlink
{
    internal static class PairingCodes
    {
        /// <summary>One client for the whole app, as HttpClient is meant to be used;
        /// each request carries its own timeout.</summary>
        private static readonly HttpClient Http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };

        public static async Task<PairingCode> RequestAsync(Uri httpBase, string uuid, PairlinkOptions options, CancellationToken cancellationToken)
        {
            Uri codeUri = Endpoints.PairingCodeRequest(httpBase, uuid);
            string token = await options.NextTokenAsync(cancellationToken).ConfigureAwait(false);
            Answer answer = await SendAsync(HttpMethod.Post, codeUri, token, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            if (answer.Status == HttpStatusCode.Unauthorized && options.TokenProvider != null)
            {
                token = await options.NextTokenAsync(cancellationToken).ConfigureAwait(false);
                answer = await SendAsync(HttpMethod.Post, codeUri, token, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            }
            JObject body = answer.Json();
            string code = Field(body, "code");
            string joinUrl = Field(body, "join_url");
            DateTimeOffset expiresAt;
            if (!DateTimeOffset.TryParse(Field(body, "expires_at"), CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out expiresAt))
                throw new PairlinkException(ErrorCodes.Unreachable, "pairlink's expires_at is not a time");

            Answer png = await SendAsync(HttpMethod.Get, Endpoints.QrPng(httpBase, code), null, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            png.EnsureSuccess();
            return new PairingCode(code, body.Value<string>("uuid") ?? uuid, joinUrl, expiresAt, png.Body);
        }

        private sealed class Answer
        {
            public HttpStatusCode Status;
            public byte[] Body;
            public TimeSpan? RetryAfter;

            public void EnsureSuccess()
            {
                if ((int)Status >= 200 && (int)Status < 300) return;
                string code = ErrorCodes.Unreachable;
                string message = "pairlink answered HTTP " + (int)Status;
                try
                {
                    JObject error = Wire.ParseObject(System.Text.Encoding.UTF8.GetString(Body));
                    code = error.Value<string>("code") ?? code;
                    message = error.Value<string>("message") ?? message;
                }
                catch (FormatException)
                {
                    // Not pairlink's JSON error (a proxy's page, say): keep the status.
                }
                var e = new PairlinkException(code, message) { HttpStatus = (int)Status };
                if (RetryAfter.HasValue) e.RetryAfterSeconds = (int)RetryAfter.Value.TotalSeconds;
                throw e;
            }

            public JObject Json()
            {
                EnsureSuccess();
                try
                {
                    return Wire.ParseObject(System.Text.Encoding.UTF8.GetString(Body));
                }
                catch (FormatException e)
                {
                    throw new PairlinkException(ErrorCodes.Unreachable, "pairlink's answer is not JSON: " + e.Message) { HttpStatus = (int)Status };
                }
            }
        }

        private static async Task<Answer> SendAsync(HttpMethod method, Uri uri, string token, TimeSpan timeout, CancellationToken cancellationToken)
        {
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            using (var request = new HttpRequestMessage(method, uri))
            {
                limit.CancelAfter(timeout);
                if (!string.IsNullOrEmpty(token)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                try
                {
                    using (HttpResponseMessage response = await Http.SendAsync(request, limit.Token).ConfigureAwait(false))
                    {
                        byte[] body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                        RetryConditionHeaderValue retry = response.Headers.RetryAfter;
                        return new Answer
                        {
                            Status = response.StatusCode,
                            Body = body,
                            RetryAfter = retry != null ? retry.Delta : null,
                        };
                    }
                }
                catch (Exception e) when (!(e is PairlinkException))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    string why = limit.IsCancellationRequested ? "no answer within " + timeout.TotalSeconds + " s" : e.Message;
                    throw new PairlinkException(ErrorCodes.Unreachable, method + " " + uri.AbsolutePath + " failed: " + why, e);
                }
            }
        }

        private static string Field(JObject body, string name)
        {
            string value = body.Value<string>(name);
            if (string.IsNullOrEmpty(value))
                throw new PairlinkException(ErrorCodes.Unreachable, "pairlink's answer has no '" + name + "'");
            return value;
        }
    }
}
