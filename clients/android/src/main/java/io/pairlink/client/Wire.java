package io.pairlink.client;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * Protocol v2 messages, as docs/protocol.md defines them: the one place that knows field
 * names and the one place that parses JSON (the seam between the SDK and Gson). Readers are
 * forgiving where the protocol allows it: unknown fields and message types are ignored.
 */
final class Wire {
    static final String SUBPROTOCOL = "pairlink.v2";

    private Wire() {
    }

    static String difficulty(long id, int difficulty) {
        JsonObject message = typed("difficulty");
        message.addProperty("difficulty", difficulty);
        message.addProperty("id", id);
        return message.toString();
    }

    static String relay(JsonElement data) {
        JsonObject message = typed("relay");
        message.add("data", data);
        return message.toString();
    }

    static String ping(long id) {
        JsonObject message = typed("ping");
        message.addProperty("id", id);
        return message.toString();
    }

    /** The object a text frame holds, or null when it holds anything else. */
    @Nullable
    static JsonObject parse(String text) {
        try {
            JsonElement element = JsonParser.parseString(text);
            return element.isJsonObject() ? element.getAsJsonObject() : null;
        } catch (JsonParseException e) {
            return null;
        }
    }

    @Nullable
    static String string(JsonObject message, String field) {
        JsonElement value = message.get(field);
        return value != null && value.isJsonPrimitive() && value.getAsJsonPrimitive().isString()
                ? value.getAsString() : null;
    }

    @Nullable
    static Long integer(JsonObject message, String field) {
        JsonElement value = message.get(field);
        if (value == null || !value.isJsonPrimitive() || !value.getAsJsonPrimitive().isNumber()) {
            return null;
        }
        try {
            return value.getAsBigDecimal().longValueExact();
        } catch (ArithmeticException e) {
            return null;
        }
    }

    static boolean bool(JsonObject message, String field) {
        JsonElement value = message.get(field);
        return value != null && value.isJsonPrimitive() && value.getAsJsonPrimitive().isBoolean()
                && value.getAsBoolean();
    }

    /** The id this SDK gave the request an answer is for; the SDK's ids are integers. */
    @Nullable
    static Long id(JsonObject message) {
        return integer(message, "id");
    }

    /** {@code {"type":"welcome",...}}; null when it lacks the role or the UUID. */
    @Nullable
    static Welcome welcome(JsonObject message) {
        Role role = Role.fromWire(string(message, "role"));
        String uuid = string(message, "uuid");
        if (role == null || uuid == null) {
            return null;
        }
        Long idle = integer(message, "idle_timeout_ms");
        Long maxBytes = integer(message, "max_message_bytes");
        return new Welcome(role, uuid, bool(message, "peer"), idle == null ? 0 : idle,
                maxBytes == null ? 0 : maxBytes, integer(message, "hold_ms"));
    }

    /** {@code {"type":"draw",...}}; null when the ids are missing or not integers. */
    @Nullable
    static Draw draw(JsonObject message) {
        JsonElement quizzes = message.get("quiz_id");
        Long action = integer(message, "action_id");
        Long difficulty = integer(message, "difficulty");
        if (quizzes == null || !quizzes.isJsonArray() || action == null || difficulty == null) {
            return null;
        }
        JsonArray array = quizzes.getAsJsonArray();
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonElement quiz = array.get(i);
            if (!quiz.isJsonPrimitive() || !quiz.getAsJsonPrimitive().isNumber()) {
                return null;
            }
            ids[i] = quiz.getAsInt();
        }
        return new Draw(ids, action.intValue(), difficulty.intValue(), bool(message, "held"),
                string(message, "sent_at"));
    }

    /** {@code {"type":"ack","status":...}}; null for a status this SDK does not know. */
    @Nullable
    static Delivery delivery(JsonObject message) {
        String status = string(message, "status");
        if ("received".equals(status)) {
            return Delivery.RECEIVED;
        }
        return "queued".equals(status) ? Delivery.QUEUED : null;
    }

    /** {@code {"type":"error","code":...,"message":...}} and, for HTTP errors, their bodies. */
    @NotNull
    static PairlinkException error(JsonObject message) {
        String code = string(message, "code");
        String text = string(message, "message");
        return new PairlinkException(code == null ? PairlinkException.BAD_RESPONSE : code,
                text == null ? "(no message)" : text, id(message), null);
    }

    /** The relay's {@code data}: JSON null when the field is absent. */
    @NotNull
    static JsonElement relayData(JsonObject message) {
        JsonElement data = message.get("data");
        return data == null ? JsonNull.INSTANCE : data;
    }

    /** Reads a pairing code's JSON answer; null when a field is missing. */
    @Nullable
    static PairingCode pairingCode(JsonObject answer, byte[] qrPng) {
        String code = string(answer, "code");
        String uuid = string(answer, "uuid");
        String expires = string(answer, "expires_at");
        String join = string(answer, "join_url");
        if (code == null || uuid == null || expires == null || join == null) {
            return null;
        }
        return new PairingCode(code, uuid, expires, join, qrPng);
    }

    private static JsonObject typed(String type) {
        JsonObject message = new JsonObject();
        message.add("type", new JsonPrimitive(type));
        return message;
    }
}
