package io.pairlink.client;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * The real pairlink binary, started for one test on a free port with a fresh SQLite file
 * (the demo catalogue: difficulties 1-5). The binary is {@code $PAIRLINK_BIN}, or
 * {@code target/debug/pairlink} of the repository these tests sit in
 * ({@code cargo build --locked --bin pairlink}).
 */
final class PairlinkServer implements AutoCloseable {
    private static final OkHttpClient HTTP = new OkHttpClient();

    private final Path dir;
    private final int port;
    private final List<String> extraArgs;
    private Process process;
    private boolean frozen;

    private PairlinkServer(List<String> extraArgs) throws IOException {
        this.dir = Files.createTempDirectory("pairlink-sdk-test");
        this.port = freePort();
        this.extraArgs = extraArgs;
    }

    /** Starts a server with these extra {@code serve} flags and waits until it answers. */
    static PairlinkServer start(String... extraArgs) throws Exception {
        PairlinkServer server = new PairlinkServer(Arrays.asList(extraArgs));
        server.launch();
        return server;
    }

    /** {@code ws://127.0.0.1:PORT}: what the SDK's builders take. */
    String url() {
        return "ws://127.0.0.1:" + port;
    }

    /** Stops the process (SIGTERM: it closes every WebSocket with 1001) and starts it again. */
    void restart() throws Exception {
        stop();
        launch();
    }

    /** SIGSTOP: the process stops answering anything, but its sockets stay open. */
    void freeze() throws IOException, InterruptedException {
        signal("STOP");
        frozen = true;
    }

    /** SIGCONT after {@link #freeze()}. */
    void thaw() throws IOException, InterruptedException {
        signal("CONT");
        frozen = false;
    }

    /** Stops the server and removes its database and log. */
    @Override
    public void close() throws IOException {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }

    private void launch() throws Exception {
        List<String> command = new ArrayList<>(Arrays.asList(binary().toString(), "serve",
                "--bind", "127.0.0.1:" + port,
                "--database-url", "sqlite://" + dir.resolve("p.db")));
        command.addAll(extraArgs);
        File log = dir.resolve("server.log").toFile();
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("pairlink exited with " + process.exitValue()
                        + ":\n" + new String(Files.readAllBytes(log.toPath()), StandardCharsets.UTF_8));
            }
            if (healthy()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("pairlink did not answer /healthz; log in " + log);
    }

    private void stop() throws IOException, InterruptedException {
        if (process == null) {
            return;
        }
        if (frozen) {
            thaw();
        }
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        process = null;
    }

    private boolean healthy() {
        Request request = new Request.Builder().url("http://127.0.0.1:" + port + "/healthz").build();
        try (Response response = HTTP.newCall(request).execute()) {
            return response.code() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                .inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " failed");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static Path binary() {
        String configured = System.getenv("PAIRLINK_BIN");
        if (configured != null && !configured.isEmpty()) {
            return Paths.get(configured);
        }
        for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("Cargo.toml"))) {
                Path binary = dir.resolve("target/debug/pairlink");
                if (!Files.isExecutable(binary)) {
                    throw new IllegalStateException(binary + " is missing: run "
                            + "cargo build --locked --bin pairlink, or set PAIRLINK_BIN");
                }
                return binary;
            }
        }
        throw new IllegalStateException("no Cargo.toml above " + Paths.get("").toAbsolutePath()
                + "; set PAIRLINK_BIN");
    }
}
