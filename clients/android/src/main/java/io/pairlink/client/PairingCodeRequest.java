package io.pairlink.client;

import com.google.gson.JsonObject;
import java.io.IOException;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * A display's pairing code over HTTP: {@code POST /api/pairings/{uuid}/code}, then
 * {@code GET /api/pairings/code/{code}/qr.png}, both on OkHttp's own threads. The token, when
 * there is one, goes in {@code Authorization: Bearer}, as on the WebSocket.
 */
final class PairingCodeRequest {
    private static final MediaType JSON = MediaType.parse("application/json");

    private final Connection connection;
    private final PairlinkCall<PairingCode> call;
    @Nullable
    private final String token;
    private volatile boolean canceled;
    @Nullable
    private volatile Call inFlight;

    private PairingCodeRequest(Connection connection, PairlinkCall<PairingCode> call,
            @Nullable String token) {
        this.connection = connection;
        this.call = call;
        this.token = token;
    }

    static PairlinkCall<PairingCode> start(Connection connection) {
        PairlinkCall<PairingCode> call = new PairlinkCall<>(connection.callbacks(), null);
        connection.fetchToken((token, error) -> {
            if (error != null) {
                call.fail(new PairlinkException(PairlinkException.TOKEN_UNAVAILABLE,
                        "the token provider threw " + error, null, error));
                return;
            }
            PairingCodeRequest request = new PairingCodeRequest(connection, call, token);
            call.onCancel(request::cancel);
            request.askForCode();
        });
        return call;
    }

    private void askForCode() {
        Request request = authorized(new Request.Builder()
                .url(connection.endpoint().pairingCodeUrl())
                .post(RequestBody.create(JSON, "{}")));
        send(request, body -> {
            JsonObject answer = Wire.parse(body.string());
            String code = answer == null ? null : Wire.string(answer, "code");
            if (answer == null || code == null) {
                throw new IOException("the pairing code answer is not the documented JSON");
            }
            fetchQr(answer, code);
        });
    }

    private void fetchQr(JsonObject answer, String code) {
        Request request = authorized(new Request.Builder()
                .url(connection.endpoint().qrPngUrl(code)).get());
        send(request, body -> {
            PairingCode pairing = Wire.pairingCode(answer, body.bytes());
            if (pairing == null) {
                throw new IOException("the pairing code answer lacks a field");
            }
            call.succeed(pairing);
        });
    }

    private Request authorized(Request.Builder request) {
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request.build();
    }

    /** What to do with a 200 answer's body. */
    private interface OnOk {
        void read(ResponseBody body) throws IOException;
    }

    private void send(Request request, OnOk onOk) {
        if (canceled || call.isDone()) {
            return; // canceled, possibly before the cancel hook was registered
        }
        Call http = connection.client().newCall(request);
        inFlight = http;
        http.enqueue(new Callback() {
            @Override
            public void onFailure(@NotNull Call c, @NotNull IOException e) {
                call.fail(new PairlinkException(PairlinkException.NETWORK,
                        request.url().encodedPath() + ": " + e, null, e));
            }

            @Override
            public void onResponse(@NotNull Call c, @NotNull Response response) {
                try (ResponseBody body = response.body()) {
                    if (body == null) {
                        throw new IOException("no body");
                    }
                    if (response.code() == 200) {
                        onOk.read(body);
                    } else {
                        call.fail(refusal(response.code(), body.string()));
                    }
                } catch (IOException | RuntimeException e) {
                    call.fail(new PairlinkException(PairlinkException.BAD_RESPONSE,
                            request.url().encodedPath() + ": " + e, null, e));
                }
            }
        });
    }

    /** A non-200 answer: its JSON body's {@code code}, or the status when there is none. */
    private static PairlinkException refusal(int status, String body) {
        JsonObject json = Wire.parse(body);
        PairlinkException error = json == null ? null : Wire.error(json);
        if (error == null || PairlinkException.BAD_RESPONSE.equals(error.code())) {
            return new PairlinkException(PairlinkException.BAD_RESPONSE, "HTTP " + status);
        }
        return error;
    }

    private void cancel() {
        canceled = true;
        Call http = inFlight;
        if (http != null) {
            http.cancel();
        }
    }
}
