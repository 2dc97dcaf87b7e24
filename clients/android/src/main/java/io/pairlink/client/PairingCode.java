package io.pairlink.client;

import org.jetbrains.annotations.NotNull;

/**
 * A short code a display shows so that a phone can join it, with the QR code of its join
 * URL. It ends after the server's {@code --code-ttl} or when the display disconnects.
 */
public final class PairingCode {
    private final String code;
    private final String uuid;
    private final String expiresAt;
    private final String joinUrl;
    private final byte[] qrPng;

    PairingCode(String code, String uuid, String expiresAt, String joinUrl, byte[] qrPng) {
        this.code = code;
        this.uuid = uuid;
        this.expiresAt = expiresAt;
        this.joinUrl = joinUrl;
        this.qrPng = qrPng.clone();
    }

    /** Six characters, shown in capitals, e.g. {@code K7M2QX}. */
    @NotNull
    public String code() {
        return code;
    }

    /** The display's UUID. */
    @NotNull
    public String uuid() {
        return uuid;
    }

    /** When the code ends at the latest (RFC 3339, UTC). */
    @NotNull
    public String expiresAt() {
        return expiresAt;
    }

    /** {@code ws://HOST/ws/join/CODE}: what the QR code holds and a controller can join with. */
    @NotNull
    public String joinUrl() {
        return joinUrl;
    }

    /** The QR code of {@link #joinUrl()} as a PNG image ({@code BitmapFactory.decodeByteArray}). */
    @NotNull
    public byte[] qrPng() {
        return qrPng.clone();
    }

    @Override
    public String toString() {
        return "PairingCode(" + code + ", expires " + expiresAt + ")";
    }
}
