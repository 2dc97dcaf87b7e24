package io.pairlink.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * Where a display or controller connects: the server's base URL plus the role's path. A
 * controller that joined with a pairing code remembers the UUID its welcome gave, and
 * switches to {@code /ws/difficulty/android/{uuid}} once the code is gone (4404). Touched
 * only by the connection's own thread after it is built.
 */
final class Endpoint {
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern CODE = Pattern.compile("[A-Za-z0-9]{1,64}");

    private final HttpUrl base;
    private final Role role;
    @Nullable
    private volatile String uuid;
    @Nullable
    private volatile String code;

    private Endpoint(HttpUrl base, Role role, @Nullable String uuid, @Nullable String code) {
        this.base = base;
        this.role = role;
        this.uuid = uuid;
        this.code = code;
    }

    /**
     * Checks what a builder was given.
     *
     * @param url the server ({@code ws://192.168.1.20:8080}), or null when {@code codeOrUrl}
     *     is a join URL, which names the server itself
     * @throws IllegalArgumentException for a URL that is not ws/wss/http/https, a UUID not in
     *     the 8-4-4-4-12 form, a code that is not letters and digits, or neither uuid nor code
     */
    static Endpoint of(@Nullable String url, Role role, @Nullable String uuid,
            @Nullable String codeOrUrl) {
        if ((uuid == null) == (codeOrUrl == null)) {
            throw new IllegalArgumentException("give exactly one of uuid() and code()");
        }
        if (uuid != null && !UUID.matcher(uuid).matches()) {
            throw new IllegalArgumentException("'" + uuid + "' is not a UUID (8-4-4-4-12 hex)");
        }
        String code = null;
        HttpUrl base = url != null ? parse(url) : null;
        if (codeOrUrl != null) {
            if (codeOrUrl.contains("://")) {
                HttpUrl join = parse(codeOrUrl);
                List<String> segments = nonEmpty(join);
                if (segments.isEmpty()) {
                    throw new IllegalArgumentException("'" + codeOrUrl + "' ends in no pairing code");
                }
                code = segments.get(segments.size() - 1);
                if (base == null) {
                    base = joinBase(join, segments);
                }
            } else {
                code = codeOrUrl.trim();
            }
            if (!CODE.matcher(code).matches()) {
                throw new IllegalArgumentException("'" + code + "' is not a pairing code");
            }
            code = code.toUpperCase(Locale.ROOT);
        }
        if (base == null) {
            throw new IllegalArgumentException("url() is required unless code() is a join URL");
        }
        return new Endpoint(base, role, uuid == null ? null : uuid.toLowerCase(Locale.ROOT), code);
    }

    /** The WebSocket URL to connect to now, in OkHttp's http(s) form. */
    @NotNull
    HttpUrl socketUrl() {
        String joinCode = code;
        HttpUrl.Builder url = base.newBuilder().addPathSegment("ws");
        if (joinCode != null) {
            return url.addPathSegment("join").addPathSegment(joinCode).build();
        }
        return url.addPathSegment("difficulty")
                .addPathSegment(role == Role.DISPLAY ? "unity" : "android")
                .addPathSegment(requireUuid()).build();
    }

    /** Whether this connection presents a token: a join by code needs none. */
    boolean wantsToken() {
        return code == null;
    }

    /** {@code POST /api/pairings/{uuid}/code}: asks for this display's pairing code. */
    @NotNull
    HttpUrl pairingCodeUrl() {
        return base.newBuilder().addPathSegments("api/pairings").addPathSegment(requireUuid())
                .addPathSegment("code").build();
    }

    /**
     * {@code GET /api/pairings/code/{code}/qr.png?target=page}: the QR code of the phone page,
     * which a camera opens and an app reads the code from (its last path segment).
     */
    @NotNull
    HttpUrl qrPngUrl(String pairingCode) {
        return base.newBuilder().addPathSegments("api/pairings/code").addPathSegment(pairingCode)
                .addPathSegment("qr.png").addQueryParameter("target", "page").build();
    }

    /** The pair's UUID, once known (a code join learns it from the welcome). */
    @Nullable
    String uuid() {
        return uuid;
    }

    /** Remembers the UUID a welcome gave. */
    void learnUuid(String welcomeUuid) {
        uuid = welcomeUuid.toLowerCase(Locale.ROOT);
    }

    /** The code is gone: join by UUID from now on. False if no UUID was ever learned. */
    boolean dropCode() {
        if (code == null || uuid == null) {
            return false;
        }
        code = null;
        return true;
    }

    private String requireUuid() {
        String known = uuid;
        if (known == null) {
            throw new IllegalStateException("the UUID is not known yet");
        }
        return known;
    }

    private static HttpUrl parse(String url) {
        // HttpUrl knows only http(s); OkHttp connects WebSockets through those URLs.
        String lower = url.toLowerCase(Locale.ROOT);
        String http = lower.startsWith("ws://") ? "http://" + url.substring(5)
                : lower.startsWith("wss://") ? "https://" + url.substring(6) : url;
        HttpUrl parsed = http.toLowerCase(Locale.ROOT).matches("https?://.*") ? HttpUrl.parse(http) : null;
        if (parsed == null) {
            throw new IllegalArgumentException("'" + url + "' is not a ws, wss, http or https URL");
        }
        return parsed;
    }

    private static List<String> nonEmpty(HttpUrl url) {
        // A loop, not removeIf: Collection.removeIf needs Android API 24.
        List<String> segments = new ArrayList<>();
        for (String segment : url.pathSegments()) {
            if (!segment.isEmpty()) {
                segments.add(segment);
            }
        }
        return segments;
    }

    /** {@code ws://host/prefix/ws/join/CODE} names the server {@code ws://host/prefix}. */
    private static HttpUrl joinBase(HttpUrl join, List<String> segments) {
        int n = segments.size();
        if (n < 3 || !segments.get(n - 3).equals("ws") || !segments.get(n - 2).equals("join")) {
            throw new IllegalArgumentException("'" + join + "' is not a join URL (…/ws/join/CODE); "
                    + "give the server with url()");
        }
        HttpUrl.Builder base = join.newBuilder().encodedPath("/").query(null).fragment(null);
        for (String segment : segments.subList(0, n - 3)) {
            base.addPathSegment(segment);
        }
        return base.build();
    }
}
