package io.portcamel.agent.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar <abs>/target/port-camel-agent.jar ARGS} as a real OS process, started the way the Dockerfile's
 * ENTRYPOINT starts it: from a working directory holding routes/, application.properties and invocations.json
 * (copied from the checkout), with an environment made explicitly (nothing inherited but PATH and JAVA_HOME).
 * stdout and stderr go to files in the working directory, so a chatty process can never block on a full pipe.
 */
final class AgentProcess implements AutoCloseable {

    static final Path CHECKOUT = Path.of("").toAbsolutePath();
    /** The packaged jar; {@code -Dit.agent.jar=/abs/path.jar} points the ITs at another build of it (diagnosis only). */
    static final Path JAR = Path.of(System.getProperty("it.agent.jar",
            CHECKOUT.resolve("target/port-camel-agent.jar").toString())).toAbsolutePath();
    /** Where routes/, application.properties and invocations.json are copied from: the checkout, unless
     *  {@code -Dit.agent.home=DIR} says otherwise (diagnosis only, like {@code it.agent.jar}). */
    static final Path HOME = Path.of(System.getProperty("it.agent.home", CHECKOUT.toString())).toAbsolutePath();
    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    static final Path FIXTURES = CHECKOUT.resolve("src/test/resources/fixtures/port");
    static final Path IT_RESOURCES = CHECKOUT.resolve("src/test/resources/it");

    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private AgentProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** A fresh working directory laid out like the image's /app (routes/, application.properties, invocations.json). */
    static Path workDir(Path parent) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run the ITs through `mvn verify` (package first)");
        }
        Path dir = Files.createTempDirectory(parent, "app");
        io.portcamel.agent.testsupport.TestFiles.copyTree(HOME.resolve("routes"), dir.resolve("routes"));
        Files.copy(HOME.resolve("application.properties"), dir.resolve("application.properties"));
        Files.copy(HOME.resolve("invocations.json"), dir.resolve("invocations.json"));
        return dir;
    }

    /** The only inherited variables: PATH (with this JVM's bin first) and JAVA_HOME. */
    static Map<String, String> minimalEnv() {
        Map<String, String> env = new HashMap<>();
        String path = System.getenv("PATH");
        env.put("PATH", JAVA.getParent() + (path == null ? "" : ":" + path));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        return env;
    }

    static AgentProcess start(Path workDir, Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(JAVA.toString());
        // exactly the image's ENTRYPOINT ["java", "-jar", "/app/port-camel-agent.jar"], no JVM flags added
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        String tag = Long.toString(System.nanoTime(), 36);
        Path out = workDir.resolve("stdout-" + tag + ".log");
        Path err = workDir.resolve("stderr-" + tag + ".log");
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.redirectOutput(out.toFile());
        pb.redirectError(err.toFile());
        return new AgentProcess(pb.start(), out, err);
    }

    /** Runs to completion (bounded); the process is killed when it overruns. */
    static Result run(Path workDir, Map<String, String> env, Duration timeout, String... args) throws Exception {
        try (AgentProcess p = start(workDir, env, args)) {
            if (!p.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("java -jar " + String.join(" ", args) + " did not end within " + timeout
                        + "\nstdout:\n" + p.stdout() + "\nstderr:\n" + p.stderr());
            }
            return new Result(p.process.exitValue(), p.stdout(), p.stderr());
        }
    }

    record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout:\n" + stdout + "\n--- stderr:\n" + stderr;
        }
    }

    Process process() {
        return process;
    }

    String stdout() {
        return read(stdout);
    }

    String stderr() {
        return read(stderr);
    }

    String output() {
        return stdout() + stderr();
    }

    /** Waits until {@code port} on 127.0.0.1 accepts connections; fails early if the process dies. */
    void awaitListening(int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the agent exited with " + process.exitValue() + " before listening on "
                        + port + "\n--- stdout:\n" + stdout() + "\n--- stderr:\n" + stderr());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the agent did not listen on " + port + " within " + timeout
                + "\n--- stdout:\n" + stdout() + "\n--- stderr:\n" + stderr());
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
