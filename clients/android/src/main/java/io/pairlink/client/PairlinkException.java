package io.pairlink.client;

import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * A failed request or a problem reported to {@code onError}. Code against {@link #code()}: it
 * is pairlink's error code, or one of the SDK's own below; the message is for people.
 */
public final class PairlinkException extends Exception {
    private static final long serialVersionUID = 1L;

    /** No quiz or no action exists at that difficulty. */
    public static final String NO_CONTENT = "no_content";
    /** The difficulty is not an integer the server accepts. */
    public static final String INVALID_DIFFICULTY = "invalid_difficulty";
    /** The display is not connected (and held delivery is off), or relay data had no display. */
    public static final String DISPLAY_OFFLINE = "display_offline";
    /** Relay data from the display found no controller; it was dropped. */
    public static final String CONTROLLER_OFFLINE = "controller_offline";
    /** Held delivery is on and the display already has {@code --hold-max} draws waiting. */
    public static final String QUEUE_FULL = "queue_full";
    /** A draw answered {@link Delivery#QUEUED} was not delivered before {@code --hold-for}. */
    public static final String EXPIRED = "expired";
    /** The connection sent more than {@code --rate-limit} allows; this message was dropped. */
    public static final String RATE_LIMITED = "rate_limited";
    /** The server could not read a message (a bug in this SDK or a newer server). */
    public static final String INVALID_MESSAGE = "invalid_message";
    /** With {@code --redis-url}: Redis cannot be reached. */
    public static final String BROKER_UNAVAILABLE = "broker_unavailable";
    /**
     * The connection dropped before the answer came. The request is not sent again: the
     * server may or may not have acted on it.
     */
    public static final String CONNECTION_LOST = "connection_lost";
    /** The request was made while the connection was not open; nothing was sent. */
    public static final String NOT_CONNECTED = "not_connected";
    /** The app canceled the call; whatever was already sent stays sent. */
    public static final String CANCELED = "canceled";
    /** An HTTP request (the pairing code) failed on the network. */
    public static final String NETWORK = "network";
    /** The server answered something this SDK cannot read. */
    public static final String BAD_RESPONSE = "bad_response";
    /** A token provider threw; the SDK retries with backoff. */
    public static final String TOKEN_UNAVAILABLE = "token_unavailable";
    /** An app callback threw; the exception is the cause. The connection carries on. */
    public static final String CALLBACK_FAILED = "callback_failed";

    private final String code;
    @Nullable
    private final Long requestId;

    PairlinkException(@NotNull String code, @NotNull String message, @Nullable Long requestId,
            @Nullable Throwable cause) {
        super(message, cause);
        this.code = code;
        this.requestId = requestId;
    }

    PairlinkException(@NotNull String code, @NotNull String message) {
        this(code, message, null, null);
    }

    /** pairlink's error code, such as {@link #NO_CONTENT}, or one of the SDK's. */
    @NotNull
    public String code() {
        return code;
    }

    /** The id of the request this answers ({@link PairlinkCall#requestId()}), if any. */
    @Nullable
    public Long requestId() {
        return requestId;
    }

    @Override
    public String toString() {
        return "PairlinkException(" + code + (requestId != null ? ", id " + requestId : "") + "): "
                + getMessage();
    }
}
