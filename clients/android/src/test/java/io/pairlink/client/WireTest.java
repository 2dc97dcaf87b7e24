package io.pairlink.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

/** Reading what the server sends: every malformed message has a defined answer. */
class WireTest {
    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    @Test
    void messagesTheSdkSendsAreTheDocumentedOnes() {
        assertEquals("{\"type\":\"difficulty\",\"difficulty\":2,\"id\":7}", Wire.difficulty(7, 2));
        assertEquals("{\"type\":\"ping\",\"id\":5}", Wire.ping(5));
        assertEquals("{\"type\":\"relay\",\"data\":{\"a\":[1,true]}}",
                Wire.relay(JsonParser.parseString("{\"a\":[1,true]}")));
    }

    @Test
    void textThatIsNotAJsonObjectIsNoMessage() {
        assertNull(Wire.parse("not json"));
        assertNull(Wire.parse("[1,2]"));
        assertNull(Wire.parse("{\"type\":\"ack\"} trailing"));
        assertNull(Wire.parse(""));
    }

    @Test
    void aHeldDrawCarriesWhenItWasSent() {
        Draw draw = Wire.draw(json("{\"type\":\"draw\",\"quiz_id\":[4,1,3],\"action_id\":2,"
                + "\"difficulty\":2,\"held\":true,\"sent_at\":\"2026-12-01T12:00:00.123Z\",\"new\":1}"));
        assertNotNull(draw);
        assertArrayEquals(new int[] {4, 1, 3}, draw.quizIds());
        assertEquals("2026-12-01T12:00:00.123Z", draw.sentAt());
    }

    @Test
    void malformedDrawsAndWelcomesAreDropped() {
        assertNull(Wire.draw(json("{\"quiz_id\":\"1\",\"action_id\":2,\"difficulty\":1}")));
        assertNull(Wire.draw(json("{\"quiz_id\":[\"a\"],\"action_id\":2,\"difficulty\":1}")));
        assertNull(Wire.draw(json("{\"quiz_id\":[1],\"difficulty\":1}")));
        assertNull(Wire.welcome(json("{\"role\":\"display\"}")));
        assertNull(Wire.welcome(json("{\"role\":\"spectator\",\"uuid\":\"u\"}")));
    }

    @Test
    void idsAreTheSdksIntegersOnly() {
        assertEquals(7L, Wire.id(json("{\"id\":7}")));
        assertNull(Wire.id(json("{\"id\":\"7\"}")));
        assertNull(Wire.id(json("{\"id\":7.5}")));
        assertNull(Wire.id(json("{}")));
    }

    @Test
    void errorsKeepTheirCodeAndId() {
        PairlinkException error = Wire.error(json(
                "{\"type\":\"error\",\"id\":3,\"code\":\"queue_full\",\"message\":\"full\"}"));
        assertEquals("queue_full", error.code());
        assertEquals(3L, error.requestId());
        assertEquals(PairlinkException.BAD_RESPONSE, Wire.error(json("{\"type\":\"error\"}")).code());
    }

    @Test
    void acksWithAnUnknownStatusAreNoDelivery() {
        assertEquals(Delivery.QUEUED, Wire.delivery(json("{\"status\":\"queued\"}")));
        assertNull(Wire.delivery(json("{\"status\":\"maybe\"}")));
        assertEquals(JsonNull.INSTANCE, Wire.relayData(json("{\"type\":\"relay\"}")));
    }
}
