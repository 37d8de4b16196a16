package io.portcamel.agent.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.portcamel.agent.tracking.TargetHttp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * CircleCI API v2 for {@code n} pipelines, cheap enough to answer thousands of requests a second on a small machine
 * (the WireMock {@code FakeCircleCi} of the tests is not). It serves the three calls a tracker poll makes, in the shapes
 * of FakeCircleCi and the spec ({@code specs/circleci}): {@code GET /api/v2/pipeline/{id}},
 * {@code GET /api/v2/pipeline/{id}/workflow} and {@code GET /api/v2/workflow/{id}/job}, with the same
 * {@code Circle-Token} check. Pipeline {@code i} (id {@link #pipelineId(int)}, project {@link #slug(int)}, number 7)
 * runs one workflow "build" with jobs "compile" (#1, running) and "test" (blocked) until {@link #finish(int)}; from
 * then on it shows "build" success, "compile" (#1) success and "test" (#2) success.
 *
 * <p>What it measures: every {@code GET /pipeline/{id}} is one tracker poll; while {@link #record(boolean)} is on, the gap
 * since the previous poll of the same pipeline goes into a histogram (10 ms buckets), so the window's poll interval
 * and lag are known per pipeline. A sample of requests (1 in 500) is kept for validation against the spec.
 */
final class FastCircleCi implements AutoCloseable {
    static final String API = "/api/v2";
    private static final String UUID_PREFIX = "5eed0000-%04x-4000-8000-%012d";
    private static final int BUCKET_MS = 10;
    private static final int BUCKETS = 12_000; // 120 s

    /** A request as received, for the contract check. */
    record Sample(String method, String pathAndQuery, Map<String, List<String>> headers) { }

    private final int n;
    private final String token;
    private final HttpServer server;
    private final ExecutorService executor;
    private final String createdAt;
    private final AtomicIntegerArray finished;
    private final AtomicLongArray lastPoll;
    private final AtomicLongArray gaps = new AtomicLongArray(BUCKETS + 1);
    private final LongAdder pipelineGets = new LongAdder();
    private final LongAdder workflowGets = new LongAdder();
    private final LongAdder jobGets = new LongAdder();
    private final LongAdder otherRequests = new LongAdder();
    private final LongAdder requests = new LongAdder();
    private final LongAdder finishedPolls = new LongAdder();
    private final List<Sample> samples = new ArrayList<>();
    private volatile boolean recording;
    private final int latencyMs;

    /** @param latencyMs added to every answer over the socket (0: as fast as it goes), to play a real CI API */
    FastCircleCi(int n, String token, int threads, int latencyMs) throws IOException {
        this.n = n;
        this.token = token;
        this.latencyMs = latencyMs;
        this.finished = new AtomicIntegerArray(n);
        this.lastPoll = new AtomicLongArray(n);
        this.createdAt = Instant.now().minusSeconds(600).toString();
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "fast-circleci");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** {@code http://127.0.0.1:<port>}, what CIRCLE_CI_URL would be (the trigger URL is {@code …/api/v2/project/…}). */
    String rootUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    static String pipelineId(int i) {
        return String.format(Locale.ROOT, UUID_PREFIX, 0, i);
    }

    static String slug(int i) {
        return String.format(Locale.ROOT, "gh/acme/svc-%05d", i);
    }

    private static String workflowId(int i) {
        return String.format(Locale.ROOT, UUID_PREFIX, 1, i);
    }

    private static String jobId(int i, int job) {
        return String.format(Locale.ROOT, UUID_PREFIX, 2 + job, i);
    }

    /** From the next poll on, pipeline {@code i} shows its workflow and jobs ended with success. */
    void finish(int i) {
        finished.set(i, 1);
    }

    /** Turns the gap histogram on (and clears it) or off. */
    void record(boolean on) {
        if (on) {
            for (int b = 0; b <= BUCKETS; b++) {
                gaps.set(b, 0);
            }
        }
        recording = on;
    }

    long pipelineGets() {
        return pipelineGets.sum();
    }

    long requests() {
        return requests.sum();
    }

    long workflowGets() {
        return workflowGets.sum();
    }

    long jobGets() {
        return jobGets.sum();
    }

    long otherRequests() {
        return otherRequests.sum();
    }

    /** Polls of pipelines already finished (the agent should stop polling a pipeline once it reported its end). */
    long finishedPolls() {
        return finishedPolls.sum();
    }

    /** Gaps between two polls of one pipeline recorded so far, in ms (bucket lower bounds, 10 ms resolution). */
    long[] gapHistogram() {
        long[] h = new long[BUCKETS + 1];
        for (int b = 0; b <= BUCKETS; b++) {
            h[b] = gaps.get(b);
        }
        return h;
    }

    static long gapCount(long[] h) {
        long c = 0;
        for (long v : h) {
            c += v;
        }
        return c;
    }

    /** The q-quantile (0..1) of a gap histogram in ms, or -1 when it is empty; the last bucket means "≥ 120 s". */
    static long gapQuantile(long[] h, double q) {
        long total = gapCount(h);
        if (total == 0) {
            return -1;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int b = 0; b < h.length; b++) {
            seen += h[b];
            if (seen >= Math.max(1, rank)) {
                return (long) b * BUCKET_MS;
            }
        }
        return (long) BUCKETS * BUCKET_MS;
    }

    /** Gaps at or above {@code ms}. */
    static long gapsAtLeast(long[] h, long ms) {
        long c = 0;
        for (int b = (int) Math.min(BUCKETS, ms / BUCKET_MS); b < h.length; b++) {
            c += h[b];
        }
        return c;
    }

    synchronized List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** The same answers without a socket: a TargetHttp for seeding the store (the tracker's first poll). */
    TargetHttp direct() {
        return new TargetHttp() {
            @Override
            public Response get(String url, Map<String, String> headers) {
                String path = url.substring(url.indexOf(API));
                String auth = headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase("Circle-Token"))
                        .map(Map.Entry::getValue).findFirst().orElse(null);
                Answer a = answer("GET", path, auth, false);
                return new Response(a.status, a.body, Map.of("Content-Type", "application/json"));
            }

            @Override
            public Response post(String url, Map<String, String> headers, com.fasterxml.jackson.databind.JsonNode body) {
                return new Response(404, "{\"message\":\"Not found\"}", Map.of());
            }
        };
    }

    // ---------------------------------------------------------------- serving

    private record Answer(int status, String body) { }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            try (InputStream in = ex.getRequestBody()) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            String path = ex.getRequestURI().getRawPath();
            long seq = requests.sum();
            if (seq % 500 == 0) {
                synchronized (this) {
                    if (samples.size() < 200) {
                        String q = ex.getRequestURI().getRawQuery();
                        samples.add(new Sample(ex.getRequestMethod(), q == null ? path : path + "?" + q,
                                Map.copyOf(ex.getRequestHeaders())));
                    }
                }
            }
            if (latencyMs > 0) {
                try {
                    Thread.sleep(latencyMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            Answer a = answer(ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("Circle-Token"), true);
            byte[] body = a.body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(a.status, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private Answer answer(String method, String path, String circleToken, boolean count) {
        if (count) {
            requests.increment();
        }
        if (!token.equals(circleToken)) {
            return new Answer(401, "{\"message\":\"Invalid token provided.\"}");
        }
        if (!"GET".equals(method) || !path.startsWith(API + "/")) {
            otherRequests.increment();
            return new Answer(404, "{\"message\":\"Not found\"}");
        }
        String[] parts = path.substring(API.length() + 1).split("/");
        // pipeline/{id}, pipeline/{id}/workflow, workflow/{id}/job
        int i = parts.length >= 2 ? index(parts[1]) : -1;
        if (i < 0) {
            otherRequests.increment();
            return new Answer(404, "{\"message\":\"Not found\"}");
        }
        boolean done = finished.get(i) == 1;
        if (parts.length == 2 && parts[0].equals("pipeline") && parts[1].equals(pipelineId(i))) {
            if (count) {
                pipelineGets.increment();
                if (done) {
                    finishedPolls.increment();
                }
                long now = System.currentTimeMillis();
                long before = lastPoll.getAndSet(i, now);
                if (recording && before > 0) {
                    gaps.incrementAndGet((int) Math.min(BUCKETS, (now - before) / BUCKET_MS));
                }
            }
            return new Answer(200, pipeline(i));
        }
        if (parts.length == 3 && parts[0].equals("pipeline") && parts[2].equals("workflow") && parts[1].equals(pipelineId(i))) {
            if (count) {
                workflowGets.increment();
            }
            return new Answer(200, workflows(i, done));
        }
        if (parts.length == 3 && parts[0].equals("workflow") && parts[2].equals("job") && parts[1].equals(workflowId(i))) {
            if (count) {
                jobGets.increment();
            }
            return new Answer(200, jobs(i, done));
        }
        otherRequests.increment();
        return new Answer(404, "{\"message\":\"Not found\"}");
    }

    /** The pipeline index of one of our ids (last 12 digits), or -1. */
    private int index(String id) {
        if (id.length() != 36 || !id.startsWith("5eed0000-")) {
            return -1;
        }
        try {
            int i = Integer.parseInt(id.substring(24));
            return i < n ? i : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private String pipeline(int i) {
        String slug = slug(i);
        String repo = "https://github.com/" + slug.substring(3);
        return "{\"id\":\"" + pipelineId(i) + "\",\"errors\":[],\"project_slug\":\"" + slug + "\",\"updated_at\":\"" + createdAt
                + "\",\"number\":7,\"trigger_parameters\":{},\"state\":\"created\",\"created_at\":\"" + createdAt
                + "\",\"trigger\":{\"type\":\"api\",\"received_at\":\"" + createdAt + "\",\"actor\":{\"login\":\"port-agent\","
                + "\"avatar_url\":null}},\"vcs\":{\"provider_name\":\"GitHub\",\"origin_repository_url\":\"" + repo
                + "\",\"target_repository_url\":\"" + repo + "\",\"revision\":\"" + String.format(Locale.ROOT, "%040x", i + 1L)
                + "\",\"branch\":\"main\"}}";
    }

    private String workflows(int i, boolean done) {
        return "{\"items\":[{\"pipeline_id\":\"" + pipelineId(i) + "\",\"id\":\"" + workflowId(i) + "\",\"name\":\"build\","
                + "\"project_slug\":\"" + slug(i) + "\",\"status\":\"" + (done ? "success" : "running") + "\","
                + "\"started_by\":\"7c1d2a5b-0b0e-4b5c-9a4f-2f4a0f6f9a11\",\"pipeline_number\":7,\"created_at\":\"" + createdAt
                + "\",\"stopped_at\":" + (done ? "\"" + createdAt + "\"" : "null") + "}],\"next_page_token\":null}";
    }

    private String jobs(int i, boolean done) {
        String slug = slug(i);
        String compile = "{\"id\":\"" + jobId(i, 0) + "\",\"name\":\"compile\",\"type\":\"build\",\"status\":\""
                + (done ? "success" : "running") + "\",\"project_slug\":\"" + slug + "\",\"job_number\":1,\"dependencies\":[],"
                + "\"started_at\":\"" + createdAt + "\",\"stopped_at\":" + (done ? "\"" + createdAt + "\"" : "null") + "}";
        String test = "{\"id\":\"" + jobId(i, 1) + "\",\"name\":\"test\",\"type\":\"build\",\"status\":\""
                + (done ? "success" : "blocked") + "\",\"project_slug\":\"" + slug + "\"," + (done ? "\"job_number\":2," : "")
                + "\"dependencies\":[\"" + jobId(i, 0) + "\"],\"started_at\":" + (done ? "\"" + createdAt + "\"" : "null")
                + ",\"stopped_at\":" + (done ? "\"" + createdAt + "\"" : "null") + "}";
        return "{\"items\":[" + compile + "," + test + "],\"next_page_token\":null}";
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
