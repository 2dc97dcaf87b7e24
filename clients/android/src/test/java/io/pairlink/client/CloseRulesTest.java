package io.pairlink.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pairlink.client.CloseRules.Action;
import org.junit.jupiter.api.Test;

/** The close-code table of docs/protocol.md and the SDKs' shared rules. */
class CloseRulesTest {
    private static Action of(int code, String reason) {
        return CloseRules.classify(new CloseReason(code, reason, null));
    }

    @Test
    void finalCloses() {
        assertEquals(Action.FINAL, of(4001, "replaced"));
        assertEquals(Action.FINAL, of(4400, "invalid_uuid"));
        assertEquals(Action.FINAL, of(4403, "origin_not_allowed"));
        assertEquals(Action.FINAL, of(1009, "message too big"));
        assertEquals(Action.FINAL, of(1002, CloseReason.PROTOCOL_UNSUPPORTED));
        assertEquals(Action.FINAL, of(1006, CloseReason.CLEARTEXT_NOT_PERMITTED));
    }

    @Test
    void retryableCloses() {
        for (int code : new int[] {1000, 1001, 1006, 1011, 1012, 1013, 4002, 4429, 4503, 4999}) {
            assertEquals(Action.RETRY, of(code, "any"), "code " + code);
        }
        assertEquals(Action.RETRY, of(4400, "display_offline"));
    }

    @Test
    void closesThatDependOnWhatTheClientHas() {
        assertEquals(Action.RENEW_TOKEN, of(4401, "token_expired"));
        assertEquals(Action.USE_UUID, of(4404, "unknown_code"));
    }
}
