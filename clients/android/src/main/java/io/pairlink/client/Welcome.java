package io.pairlink.client;

import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/** The first message of every v2 connection: who this is and the server's limits. */
public final class Welcome {
    private final Role role;
    private final String uuid;
    private final boolean peer;
    private final long idleTimeoutMillis;
    private final long maxMessageBytes;
    @Nullable
    private final Long holdMillis;

    Welcome(Role role, String uuid, boolean peer, long idleTimeoutMillis, long maxMessageBytes,
            @Nullable Long holdMillis) {
        this.role = role;
        this.uuid = uuid;
        this.peer = peer;
        this.idleTimeoutMillis = idleTimeoutMillis;
        this.maxMessageBytes = maxMessageBytes;
        this.holdMillis = holdMillis;
    }

    /** This connection's role. */
    @NotNull
    public Role role() {
        return role;
    }

    /** The pair's UUID in lowercase; a controller that joined with a code learns it here. */
    @NotNull
    public String uuid() {
        return uuid;
    }

    /** Whether the other side of the pair was connected when this one arrived. */
    public boolean peerConnected() {
        return peer;
    }

    /** The server closes a connection it heard nothing from for this long (0 if not said). */
    public long idleTimeoutMillis() {
        return idleTimeoutMillis;
    }

    /** The largest message the server accepts; larger ones close the connection with 1009. */
    public long maxMessageBytes() {
        return maxMessageBytes;
    }

    /** How long held delivery keeps a draw for an absent display, or null when it is off. */
    @Nullable
    public Long holdMillis() {
        return holdMillis;
    }

    @Override
    public String toString() {
        return "Welcome(" + role.wireName() + ", peer " + peer + ")";
    }
}
