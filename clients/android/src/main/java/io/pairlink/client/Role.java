package io.pairlink.client;

import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/** The two sides of a pair: the display (a headset app) and the controller (a phone app). */
public enum Role {
    DISPLAY("display"),
    CONTROLLER("controller");

    private final String wireName;

    Role(String wireName) {
        this.wireName = wireName;
    }

    /** The name pairlink uses on the wire: {@code "display"} or {@code "controller"}. */
    @NotNull
    public String wireName() {
        return wireName;
    }

    /** The other side of the pair. */
    @NotNull
    public Role other() {
        return this == DISPLAY ? CONTROLLER : DISPLAY;
    }

    /** Reads a wire name; null for a role this SDK does not know (a later protocol's). */
    @Nullable
    static Role fromWire(@Nullable String name) {
        for (Role role : values()) {
            if (role.wireName.equals(name)) {
                return role;
            }
        }
        return null;
    }
}
