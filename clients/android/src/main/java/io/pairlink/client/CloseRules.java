package io.pairlink.client;

/**
 * What to do when a connection ends, from docs/protocol.md's "Close codes" table and the
 * SDKs' shared rules. Final closes are those a retry would only repeat or make worse (4001:
 * taking the role back from the device that replaced this one starts a tug of war).
 */
final class CloseRules {
    /** The decision for one close. */
    enum Action {
        /** Reconnect with backoff. */
        RETRY,
        /** Give up: {@code CLOSED(reason)}. */
        FINAL,
        /** 4401: reconnect only with a fresh token from the provider. */
        RENEW_TOKEN,
        /** 4404: the pairing code is gone; reconnect by UUID if the welcome taught one. */
        USE_UUID
    }

    private CloseRules() {
    }

    static Action classify(CloseReason close) {
        if (CloseReason.CLEARTEXT_NOT_PERMITTED.equals(close.reason())) {
            return Action.FINAL; // the app's configuration, not the network: retrying cannot help
        }
        switch (close.code()) {
            case 4001: // replaced: another device took this role
            case 4403: // origin_not_allowed
            case 1002: // protocol error, or a server without pairlink.v2
            case 1003:
            case 1007: // invalid UTF-8: this SDK would send it again
            case 1008:
            case 1009: // message too big: reconnecting would repeat it
            case 1010:
                return Action.FINAL;
            case 4400:
                // A controller waits for its display this way; any other 4400 is a bad URL.
                return PairlinkException.DISPLAY_OFFLINE.equals(close.reason())
                        ? Action.RETRY : Action.FINAL;
            case 4401:
                return Action.RENEW_TOKEN;
            case 4404:
                return Action.USE_UUID;
            default:
                // 1001, 1006, 1011, 1012, 1013, 4002, 4429 (after retry_after), 4503, and
                // codes this SDK does not know yet.
                return Action.RETRY;
        }
    }
}
