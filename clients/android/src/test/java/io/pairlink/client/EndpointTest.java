package io.pairlink.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EndpointTest {
    private static final String UUID = "DE358130-E94A-5692-8B09-D27007AD1944";
    private static final String LOWER = "de358130-e94a-5692-8b09-d27007ad1944";

    @Test
    void eachRoleHasItsPathAndTheUuidIsLowercase() {
        assertEquals("http://10.0.0.2:8080/ws/difficulty/unity/" + LOWER,
                Endpoint.of("ws://10.0.0.2:8080", Role.DISPLAY, UUID, null).socketUrl().toString());
        assertEquals("https://play.example.com/pairlink/ws/difficulty/android/" + LOWER,
                Endpoint.of("wss://play.example.com/pairlink/", Role.CONTROLLER, UUID, null)
                        .socketUrl().toString());
        assertEquals("http://h/api/pairings/" + LOWER + "/code",
                Endpoint.of("http://h", Role.DISPLAY, UUID, null).pairingCodeUrl().toString());
    }

    @Test
    void aJoinUrlGivesTheCodeAndTheServer() {
        Endpoint endpoint = Endpoint.of(null, Role.CONTROLLER, null,
                "ws://192.168.1.20:8080/ws/join/k7m2qx");
        assertEquals("http://192.168.1.20:8080/ws/join/K7M2QX", endpoint.socketUrl().toString());
        assertFalse(endpoint.wantsToken());
        assertNull(endpoint.uuid());
    }

    @Test
    void aCodeWithAServerUrlJoinsThere() {
        Endpoint endpoint = Endpoint.of("ws://h:1", Role.CONTROLLER, null, " K7M2QX ");
        assertEquals("http://h:1/ws/join/K7M2QX", endpoint.socketUrl().toString());
    }

    @Test
    void aLearnedUuidTakesOverOnceTheCodeIsGone() {
        Endpoint endpoint = Endpoint.of("ws://h", Role.CONTROLLER, null, "K7M2QX");
        assertFalse(endpoint.dropCode(), "no UUID learned yet: nothing to fall back on");
        endpoint.learnUuid(UUID);
        assertTrue(endpoint.dropCode());
        assertEquals("http://h/ws/difficulty/android/" + LOWER, endpoint.socketUrl().toString());
        assertTrue(endpoint.wantsToken());
    }

    @Test
    void malformedInputIsRefusedByTheBuilder() {
        assertThrows(IllegalArgumentException.class,
                () -> Endpoint.of("ftp://h", Role.DISPLAY, UUID, null));
        assertThrows(IllegalArgumentException.class,
                () -> Endpoint.of("not a url", Role.DISPLAY, UUID, null));
        assertThrows(IllegalArgumentException.class,
                () -> Endpoint.of(null, Role.DISPLAY, UUID, null));
        assertThrows(IllegalArgumentException.class,
                () -> Endpoint.of("ws://h", Role.DISPLAY, "{" + UUID + "}", null));
        assertThrows(IllegalArgumentException.class,
                () -> Endpoint.of("ws://h", Role.CONTROLLER, null, null));
        assertThrows(IllegalArgumentException.class,
                () -> Endpoint.of("ws://h", Role.CONTROLLER, UUID, "K7M2QX"));
        assertThrows(IllegalArgumentException.class,
                () -> Endpoint.of("ws://h", Role.CONTROLLER, null, "K7-M2"));
        assertThrows(IllegalArgumentException.class,
                () -> Endpoint.of(null, Role.CONTROLLER, null, "ws://h/somewhere/K7M2QX"));
        assertThrows(IllegalArgumentException.class,
                () -> Endpoint.of(null, Role.CONTROLLER, null, "ws://h/"));
    }

    @Test
    void theBuildersCheckToo() {
        assertThrows(IllegalArgumentException.class,
                () -> new PairlinkDisplay.Builder().url("ws://h").build());
        assertThrows(IllegalArgumentException.class,
                () -> new PairlinkController.Builder().url("ws://h").uuid("nope").build());
        assertThrows(IllegalArgumentException.class,
                () -> new PairlinkController.Builder().pingInterval(0, java.util.concurrent.TimeUnit.SECONDS));
    }
}
