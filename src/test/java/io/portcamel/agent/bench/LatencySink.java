package io.portcamel.agent.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The target: a JDK HTTP server on 127.0.0.1 that stamps each request when its handler starts (headers read), reads
 * the body, finds the runId in it (the agent's fallback body and the baseline both send the whole Port message),
 * waits {@link #setDelayMs(int) delayMs} and answers 200. A cached thread pool, so any concurrency is served.
 */
final class LatencySink implements AutoCloseable {
    private static final Pattern RUN_ID = Pattern.compile("\"runId\"\\s*:\\s*\"([^\"]+)\"");
    private static final byte[] OK = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);

    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sink");
        t.setDaemon(true);
        return t;
    });
    private final ConcurrentHashMap<String, Long> received = new ConcurrentHashMap<>();
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicInteger duplicates = new AtomicInteger();
    private final AtomicInteger unreadable = new AtomicInteger();
    private final AtomicLong lastReceived = new AtomicLong();
    private volatile int delayMs;

    LatencySink() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        server.createContext("/", this::handle);
        server.setExecutor(pool);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/sink";
    }

    void setDelayMs(int ms) {
        delayMs = ms;
    }

    /** Forget what was received (call when nothing is in flight). */
    void reset() {
        received.clear();
        count.set(0);
        duplicates.set(0);
        unreadable.set(0);
        lastReceived.set(0);
    }

    int count() {
        return count.get();
    }

    int duplicates() {
        return duplicates.get();
    }

    int unreadable() {
        return unreadable.get();
    }

    Long receivedAt(String runId) {
        return received.get(runId);
    }

    long lastReceived() {
        return lastReceived.get();
    }

    /** Waits until {@code n} distinct runs arrived; returns how many did (fewer on timeout). */
    int awaitCount(int n, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (count.get() < n && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        return count.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        long now = System.nanoTime();
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            Matcher m = RUN_ID.matcher(new String(body, StandardCharsets.UTF_8));
            if (m.find()) {
                if (received.putIfAbsent(m.group(1), now) == null) {
                    lastReceived.accumulateAndGet(now, Math::max);
                    count.incrementAndGet();
                } else {
                    duplicates.incrementAndGet();
                }
            } else {
                unreadable.incrementAndGet();
            }
            int d = delayMs;
            if (d > 0) {
                try {
                    Thread.sleep(d);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, OK.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(OK);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
