// Connection tokens for a server started with --auth-secret: HS256 JWTs, as a game's
// backend would mint them (docs/operations.md, "Connection tokens").

using System;
using System.Security.Cryptography;
using System.Text;

namespace Pairlink.Tests
{
    public static class Jwt
    {
        public const string Secret = "a-test-secret-of-at-least-32-bytes-for-hs256";

        /// <summary>A token for <paramref name="subject"/> (a UUID, <c>display:UUID</c>, …)
        /// that expires <paramref name="expiresIn"/> from now (negative: already expired).</summary>
        public static string Mint(string subject, TimeSpan expiresIn)
        {
            long exp = DateTimeOffset.UtcNow.Add(expiresIn).ToUnixTimeSeconds();
            string header = Base64Url(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"));
            string claims = Base64Url(Encoding.UTF8.GetBytes("{\"sub\":\"" + subject + "\",\"exp\":" + exp + "}"));
            using (var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(Secret)))
            {
                byte[] signature = hmac.ComputeHash(Encoding.ASCII.GetBytes(header + "." + claims));
                return header + "." + claims + "." + Base64Url(signature);
            }
        }

        private static string Base64Url(byte[] bytes)
        {
            return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }
    }
}
