package io.pairlink.client;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Connection tokens as a game's backend issues them: HS256 JWTs (docs/operations.md). */
final class Jwt {
    static final String SECRET = "sdk-test-secret-0123456789abcdef0123456789";

    private Jwt() {
    }

    /** A token for {@code sub} that expires {@code secondsFromNow} from now (negative: past). */
    static String hs256(String sub, long secondsFromNow) throws Exception {
        long exp = System.currentTimeMillis() / 1000 + secondsFromNow;
        String header = encode("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
        String claims = encode("{\"sub\":\"" + sub + "\",\"exp\":" + exp + "}");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] signature = mac.doFinal((header + "." + claims).getBytes(StandardCharsets.UTF_8));
        return header + "." + claims + "." + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(signature);
    }

    private static String encode(String json) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }
}
