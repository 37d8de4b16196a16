package io.portcamel.agent.testsupport;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain webhook target on 127.0.0.1 (JDK HTTP server, 32 threads) answering 200 {@code {"ok":true}} to any path,
 * after a test-chosen pause per path; it counts calls per path and the calls it holds at once.
 */
public final class JsonTarget implements AutoCloseable {
    /** What happens before the answer (sleep, wait for a latch…). */
    public interface Pause {
        void before(String path) throws InterruptedException;
    }

    private final HttpServer server;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger calls = new AtomicInteger();
    private final Map<String, AtomicInteger> perPath = new ConcurrentHashMap<>();

    private JsonTarget(Pause pause) {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newFixedThreadPool(32));
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            calls.incrementAndGet();
            perPath.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            try {
                exchange.getRequestBody().readAllBytes();
                pause.before(path);
                byte[] body = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                inFlight.decrementAndGet();
                exchange.close();
            }
        });
        server.start();
    }

    public static JsonTarget start(Pause pause) {
        return new JsonTarget(pause);
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    public int calls() {
        return calls.get();
    }

    public int calls(String path) {
        AtomicInteger n = perPath.get(path);
        return n == null ? 0 : n.get();
    }

    public int maxInFlight() {
        return maxInFlight.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
