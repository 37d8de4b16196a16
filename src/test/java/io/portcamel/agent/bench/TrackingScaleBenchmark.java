package io.portcamel.agent.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.store.StoreSettings;
import io.portcamel.agent.store.TrackingStore;
import io.portcamel.agent.store.TrackingStore.TrackedRun;
import io.portcamel.agent.testsupport.ContractValidator;
import io.portcamel.agent.testsupport.FakePort;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.circleci.CircleCiTracker;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Issue 6, "tracking at scale": 10,000 tracked CircleCI pipelines polled every 10 s by the agent running as its own
 * process ({@code java -Xmx512m -jar target/port-camel-agent.jar}, target/lib beside it, as the Dockerfile runs it),
 * against a fast CircleCI fake ({@link FastCircleCi}, JDK HTTP server in this JVM) and the fake Port (FakePort,
 * WireMock, requests validated against Port's OpenAPI extract).
 *
 * <p>{@code scripts/bench-tracking.sh} (packages the jar, then runs this class on the test classpath). Settings are
 * system properties: {@code -Dbench.tracking.runs=10000 -Dbench.tracking.pollSeconds=10
 * -Dbench.tracking.warmupSeconds=30 -Dbench.tracking.windowSeconds=60 -Dbench.tracking.changeFraction=0.01
 * -Dbench.tracking.xmx=512m -Dbench.tracking.store=auto|postgresql|h2 -Dbench.tracking.ciLatencyMs=0
 * -Dbench.tracking.agentEnv=TRACKING_POOL_SIZE=8,… -Dbench.tracking.pgAdminUrl=… -Dbench.tracking.maxSeconds=285}.
 *
 * <ol>
 *   <li>Seeds the tracking store with N runs through the real store API ({@link TrackingStore#insert}): each run's
 *       state is what the CircleCI tracker itself made from a trigger and one first poll (so Port already shows the
 *       label and link); polls due spread over one interval. Store: a dedicated PostgreSQL database
 *       ({@code port_agent_bench_tracking}, dropped at the end) when 127.0.0.1:5432 answers, else an H2 file under
 *       target/bench-tracking.</li>
 *   <li>Starts the agent with {@code TRACKING_POLL_INTERVAL_SECONDS = TRACKING_MAX_POLL_INTERVAL_SECONDS = 10}
 *       (every run polled every 10 s, no back-off: N/10 polls per second) and otherwise default settings.</li>
 *   <li>After a warm-up, measures a window where no pipeline changes: agent CPU (utime+stime of its process, in
 *       cores), heap (its Prometheus metrics), RSS, GC, the polls per second the fake saw vs N/10, the gap between
 *       two polls of one pipeline, and every Port call (run updates must be 0).</li>
 *   <li>Then finishes 1 % of the pipelines and checks Port gets exactly their updates (4 log lines and one PATCH
 *       each), and nothing for the others.</li>
 * </ol>
 * Everything is bounded ({@code bench.tracking.maxSeconds}) and cleaned up: agent process killed, database dropped.
 */
public final class TrackingScaleBenchmark {
    static final int RUNS = Machine.intProp("bench.tracking.runs", 10_000);
    static final int POLL_SECONDS = Machine.intProp("bench.tracking.pollSeconds", 10);
    static final int WARMUP_SECONDS = Machine.intProp("bench.tracking.warmupSeconds", 30);
    static final int WINDOW_SECONDS = Machine.intProp("bench.tracking.windowSeconds", 60);
    static final double CHANGE_FRACTION = Double.parseDouble(System.getProperty("bench.tracking.changeFraction", "0.01"));
    static final String XMX = System.getProperty("bench.tracking.xmx", "512m");
    static final String STORE = System.getProperty("bench.tracking.store", "auto"); // auto | postgresql | h2
    static final String PG_ADMIN_URL = System.getProperty("bench.tracking.pgAdminUrl", "jdbc:postgresql://127.0.0.1:5432/test");
    static final String PG_USER = System.getProperty("bench.tracking.pgUser", "postgres");
    static final String PG_PASSWORD = System.getProperty("bench.tracking.pgPassword", "");
    static final String PG_DB = "port_agent_bench_tracking";
    /** Extra agent settings, e.g. {@code -Dbench.tracking.agentEnv=TRACKING_POOL_SIZE=8,TRACKING_BATCH_SIZE=500}. */
    static final String AGENT_ENV = System.getProperty("bench.tracking.agentEnv", "");
    static final int MAX_SECONDS = Machine.intProp("bench.tracking.maxSeconds", 285);
    /** Latency of every CircleCI answer (ms): 0 is the fast fake of issue 6; e.g. 50 plays a real API's round trip. */
    static final int CI_LATENCY_MS = Machine.intProp("bench.tracking.ciLatencyMs", 0);
    static final double CORE_TARGET = 1.0;
    static final long HEAP_TARGET_MB = 512;

    static final String ORG = "org_bench_tracking";
    static final String CLIENT_ID = "bench-client-id";
    static final Path OUT = Path.of("target", "bench-tracking").toAbsolutePath();
    static final Path JAR = Path.of("target", "port-camel-agent.jar").toAbsolutePath();
    static final Path FIXTURE = Path.of("src/test/resources/fixtures/port/event-docs-incoming-run.json");
    static final String CIRCLECI_SPEC = "specs/circleci/openapi.subset.pipelines-workflows.json";

    static {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        // the JDK HTTP server leaves Nagle on: headers and body in two writes would wait for the client's delayed ACK
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient PROBE = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    private static final long T_START = System.nanoTime();
    private static final long CLK_TCK = clockTicks();
    private static final Map<String, String> FIG = new LinkedHashMap<>();
    private static final List<String> NOTES = new ArrayList<>();
    private static final List<String[]> ROWS = new ArrayList<>();

    private static volatile Process agent;
    private static volatile boolean pgCreated;
    private static volatile FakePort port;
    private static volatile FastCircleCi circleci;

    private TrackingScaleBenchmark() { }

    public static void main(String[] args) throws Exception {
        Files.createDirectories(OUT);
        Machine.watchdog(MAX_SECONDS, () -> {
            System.out.println("\n!! the benchmark exceeded bench.tracking.maxSeconds=" + MAX_SECONDS + " s; partial results:");
            report();
            cleanup();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(TrackingScaleBenchmark::cleanup, "bench-cleanup"));

        int code = 0;
        try {
            run();
        } catch (Throwable t) {
            code = 1;
            System.out.println("!! benchmark failed: " + t);
            t.printStackTrace(System.out);
        }
        report();
        cleanup();
        System.out.flush();
        Runtime.getRuntime().halt(code); // WireMock leaves non-daemon threads; everything here is ours
    }

    // ---------------------------------------------------------------- the run

    private static void run() throws Exception {
        step("fakes: Port (WireMock, OpenAPI-validated) and a fast CircleCI for " + RUNS + " pipelines");
        port = new FakePort(CLIENT_ID, TestSecrets.CLIENT_SECRET);
        // with a latency, enough threads for every request the agent may have in flight
        circleci = new FastCircleCi(RUNS, TestSecrets.CIRCLE_TOKEN, CI_LATENCY_MS > 0 ? 256 : 4, CI_LATENCY_MS);

        String jdbcUrl = prepareStore();
        Map<String, String> storeEnv = new HashMap<>();
        storeEnv.put("TRACKING_JDBC_URL", jdbcUrl);
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            storeEnv.put("TRACKING_JDBC_USER", PG_USER);
            if (!PG_PASSWORD.isEmpty()) {
                storeEnv.put("TRACKING_JDBC_PASSWORD", PG_PASSWORD);
            }
        }
        seed(storeEnv);
        spreadDueTimes(storeEnv, System.currentTimeMillis() + 4_000);

        step("starting the agent: java -Xmx" + XMX + " -jar target/port-camel-agent.jar");
        int mgmt = freePort();
        Map<String, String> env = agentEnv(storeEnv, mgmt);
        Process p = startAgent(env);
        long pid = p.pid();
        long t0 = System.nanoTime();
        if (!awaitReady(mgmt, 90_000, p)) {
            throw new IllegalStateException("the agent did not get ready within 90 s; see " + OUT.resolve("agent.log"));
        }
        FIG.put("ready", String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - t0) / 1e9));

        step("warm-up " + WARMUP_SECONDS + " s (the first round of polls, JIT)");
        progress(pid, mgmt, WARMUP_SECONDS);

        // ------------------------------------------------------------ the window: nothing changes
        step("measuring " + WINDOW_SECONDS + " s with no pipeline changing");
        Snapshot s0 = Snapshot.take(pid, mgmt);
        int portBefore = port.requestCount();
        long wallStart = System.currentTimeMillis();
        circleci.record(true);
        List<double[]> samples = new ArrayList<>(); // heapMB, rssMB, threads
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(WINDOW_SECONDS);
        long nextPrint = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long lastGets = circleci.pipelineGets();
        long lastT = System.nanoTime();
        while (System.nanoTime() < until) {
            Thread.sleep(Math.max(1, Math.min(2000, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
            alive(p);
            Map<String, Double> m = metrics(mgmt);
            samples.add(new double[]{m.getOrDefault("heap", Double.NaN) / 1048576.0, Machine.statusKb(String.valueOf(pid), "VmRSS:") / 1024.0,
                    m.getOrDefault("threads", Double.NaN)});
            if (System.nanoTime() >= nextPrint) {
                long g = circleci.pipelineGets();
                double rate = (g - lastGets) / ((System.nanoTime() - lastT) / 1e9);
                step(String.format(Locale.ROOT, "  polls/s %.0f, heap %.0f MB, RSS %.0f MB", rate, samples.get(samples.size() - 1)[0],
                        samples.get(samples.size() - 1)[1]));
                lastGets = g;
                lastT = System.nanoTime();
                nextPrint += TimeUnit.SECONDS.toNanos(10);
            }
        }
        Snapshot s1 = Snapshot.take(pid, mgmt);
        circleci.record(false);
        long wallEnd = System.currentTimeMillis();
        long[] gaps = circleci.gapHistogram();
        double secs = (s1.nanos - s0.nanos) / 1e9;

        double agentCores = (s1.agentTicks - s0.agentTicks) / (double) CLK_TCK / secs;
        double pgCores = (s1.pgTicks - s0.pgTicks) / (double) CLK_TCK / secs;
        double benchCores = (s1.selfTicks - s0.selfTicks) / (double) CLK_TCK / secs;
        double machineCores = s1.machineBusy - s0.machineBusy < 0 ? Double.NaN
                : (s1.machineBusy - s0.machineBusy) / (double) CLK_TCK / secs;
        double polls = (s1.pipelineGets - s0.pipelineGets) / secs;
        double expected = RUNS / (double) POLL_SECONDS;
        double httpPerSec = (s1.ciRequests - s0.ciRequests) / secs;
        double heapMax = samples.stream().mapToDouble(a -> a[0]).filter(d -> !Double.isNaN(d)).max().orElse(Double.NaN);
        double heapAvg = samples.stream().mapToDouble(a -> a[0]).filter(d -> !Double.isNaN(d)).average().orElse(Double.NaN);
        double rssMax = samples.stream().mapToDouble(a -> a[1]).max().orElse(Double.NaN);
        double threads = samples.stream().mapToDouble(a -> a[2]).filter(d -> !Double.isNaN(d)).max().orElse(Double.NaN);
        double gcSecs = s1.gcPauseSeconds - s0.gcPauseSeconds;
        double gcCount = s1.gcPauses - s0.gcPauses;

        List<LoggedRequest> windowPort = portRequests(portBefore, wallStart, wallEnd);
        long runUpdates = windowPort.stream().filter(TrackingScaleBenchmark::isRunUpdate).count();
        Map<String, Long> others = windowPort.stream().filter(r -> !isRunUpdate(r))
                .collect(Collectors.groupingBy(r -> r.getMethod().getName() + " " + r.getUrl().split("\\?")[0], TreeMap::new,
                        Collectors.counting()));

        FIG.put("window", String.format(Locale.ROOT, "%.1f s", secs));
        FIG.put("agentCores", f2(agentCores));
        FIG.put("pgCores", f2(pgCores));
        FIG.put("benchCores", f2(benchCores));
        FIG.put("machineCores", f2(machineCores));
        double softirqCores = (s1.softirq - s0.softirq) / (double) CLK_TCK / secs;
        double othersCores = machineCores - agentCores - pgCores - benchCores - softirqCores;
        FIG.put("softirqCores", f2(softirqCores));
        FIG.put("othersCores", f2(othersCores));
        if (othersCores > 0.25) {
            NOTES.add(String.format(Locale.ROOT, "other processes used %.2f cores of the machine during the window: the agent "
                    + "competed for CPU; run again on a quiet machine for clean figures", othersCores));
        }
        FIG.put("polls", f0(polls));
        FIG.put("expectedPolls", f0(expected));
        FIG.put("ciHttp", f0(httpPerSec));
        FIG.put("gapP50", sec(FastCircleCi.gapQuantile(gaps, 0.5)));
        FIG.put("gapP99", sec(FastCircleCi.gapQuantile(gaps, 0.99)));
        FIG.put("gapMax", sec(FastCircleCi.gapQuantile(gaps, 1.0)));
        FIG.put("gapCount", String.valueOf(FastCircleCi.gapCount(gaps)));
        FIG.put("gapsLate", String.valueOf(FastCircleCi.gapsAtLeast(gaps, POLL_SECONDS * 1000L + 2000)));
        FIG.put("gapsEarly", String.valueOf(FastCircleCi.gapCount(gaps) - FastCircleCi.gapsAtLeast(gaps, POLL_SECONDS * 1000L - 1000)));
        FIG.put("heapMax", f0(heapMax));
        FIG.put("heapAvg", f0(heapAvg));
        FIG.put("rssMax", f0(rssMax));
        FIG.put("threads", f0(threads));
        FIG.put("gc", String.format(Locale.ROOT, "%.0f pauses, %.2f s (%.1f %% of the window)", gcCount, gcSecs, 100 * gcSecs / secs));
        FIG.put("portRunUpdates", String.valueOf(runUpdates));
        FIG.put("portOther", others.isEmpty() ? "none" : others.toString());
        FIG.put("threadsTop", topThreads(s0.threadTicks, s1.threadTicks, secs));
        FIG.put("backlog", backlog(jdbcUrl));

        // the live set: a full GC, then the heap in use
        FIG.put("heapLive", heapAfterFullGc(pid, mgmt));

        // ------------------------------------------------------------ 1 % of the pipelines finish
        int changed = Math.max(1, (int) Math.round(RUNS * CHANGE_FRACTION));
        int step = Math.max(1, RUNS / changed);
        List<Integer> finished = new ArrayList<>();
        for (int i = 0; i < RUNS && finished.size() < changed; i += step) {
            finished.add(i);
        }
        step("finishing " + finished.size() + " pipelines (" + pct(finished.size(), RUNS) + "); waiting for Port to show them");
        int portBeforeChange = port.requestCount();
        long changeAt = System.currentTimeMillis();
        finished.forEach(circleci::finish);
        long changePolls0 = circleci.pipelineGets();
        Map<String, Long> endedAt = new HashMap<>();
        long deadline = System.currentTimeMillis() + (POLL_SECONDS * 2L + 15) * 1000;
        while (endedAt.size() < finished.size() && System.currentTimeMillis() < deadline) {
            Thread.sleep(250);
            alive(p);
            for (int i : finished) {
                String runId = runId(i);
                if (!endedAt.containsKey(runId) && "SUCCESS".equals(port.run(runId).path("status").asText())) {
                    endedAt.put(runId, System.currentTimeMillis());
                }
            }
        }
        Thread.sleep(3000); // a late or duplicate update has the chance to show up
        long changeEnd = System.currentTimeMillis();
        long changeSecs = Math.max(1, (changeEnd - changeAt) / 1000);
        List<LoggedRequest> changePort = portRequests(portBeforeChange, changeAt, changeEnd);
        Set<String> changedIds = finished.stream().map(TrackingScaleBenchmark::runId).collect(Collectors.toSet());
        List<LoggedRequest> updates = changePort.stream().filter(TrackingScaleBenchmark::isRunUpdate).toList();
        long forChanged = updates.stream().filter(r -> changedIds.contains(runIdOf(r))).count();
        long forOthers = updates.size() - forChanged;
        int exact = 0;
        List<String> wrong = new ArrayList<>();
        for (int i : finished) {
            String runId = runId(i);
            List<String> logs = port.logMessages(runId);
            List<JsonNode> patches = port.patches(runId);
            boolean ok = logs.equals(expectedLines()) && patches.size() == 1
                    && "SUCCESS".equals(patches.get(0).path("status").asText())
                    && "success".equals(patches.get(0).path("statusLabel").asText())
                    && expectedSummary().equals(patches.get(0).path("summary").asText());
            if (ok) {
                exact++;
            } else if (wrong.size() < 3) {
                wrong.add(runId + ": logs " + logs + ", patches " + patches);
            }
        }
        long[] toPort = endedAt.values().stream().mapToLong(t -> t - changeAt).sorted().toArray();
        FIG.put("changed", String.valueOf(finished.size()));
        FIG.put("changedEnded", String.valueOf(endedAt.size()));
        FIG.put("changedExact", String.valueOf(exact));
        FIG.put("updatesExpected", String.valueOf(finished.size() * 5L));
        FIG.put("updatesForChanged", String.valueOf(forChanged));
        FIG.put("updatesForOthers", String.valueOf(forOthers));
        FIG.put("changeToPortP50", toPort.length == 0 ? "n/a" : sec(toPort[toPort.length / 2]));
        FIG.put("changeToPortMax", toPort.length == 0 ? "n/a" : sec(toPort[toPort.length - 1]));
        FIG.put("finishedPolls", String.valueOf(circleci.finishedPolls()));
        FIG.put("changePolls", f0((circleci.pipelineGets() - changePolls0) / (double) changeSecs));
        wrong.forEach(w -> NOTES.add("changed run not as expected: " + w));

        // ------------------------------------------------------------ contracts
        List<String> violations = new ArrayList<>(port.contractViolations());
        ContractValidator ci = ContractValidator.fromClasspath(CIRCLECI_SPEC);
        List<FastCircleCi.Sample> sampled = circleci.samples();
        for (FastCircleCi.Sample s : sampled) {
            ci.validate(s.method(), s.pathAndQuery(), s.headers(), null).forEach(v -> violations.add("CircleCI: " + v));
        }
        FIG.put("contract", violations.isEmpty() ? "none (Port: every request; CircleCI: " + sampled.size() + " sampled requests)"
                : violations.size() + ": " + violations.stream().limit(3).toList());
        stopAgent();
    }

    private static void progress(long pid, int mgmt, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Snapshot last = Snapshot.take(pid, mgmt);
        while (System.nanoTime() < end) {
            Thread.sleep(Math.max(1, Math.min(10_000, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))));
            alive(agent);
            Snapshot now = Snapshot.take(pid, mgmt);
            double s = (now.nanos - last.nanos) / 1e9;
            step(String.format(Locale.ROOT, "  polls/s %.0f, agent CPU %.2f cores, heap %.0f MB", (now.pipelineGets - last.pipelineGets) / s,
                    (now.agentTicks - last.agentTicks) / (double) CLK_TCK / s, now.heapBytes / 1048576.0));
            last = now;
        }
    }

    // ---------------------------------------------------------------- store

    /** A fresh PostgreSQL database (or an H2 file): the JDBC URL the agent will use. */
    private static String prepareStore() throws Exception {
        if (!"h2".equals(STORE)) {
            try (Connection c = DriverManager.getConnection(PG_ADMIN_URL, PG_USER, PG_PASSWORD); Statement s = c.createStatement()) {
                dropPg(s);
                s.execute("CREATE DATABASE " + PG_DB);
                pgCreated = true;
                String url = PG_ADMIN_URL.replaceFirst("/[^/?]+(\\?|$)", "/" + PG_DB + "$1");
                FIG.put("store", "PostgreSQL " + version(c) + ", database " + PG_DB + " (dropped at the end)");
                return url;
            } catch (SQLException e) {
                if ("postgresql".equals(STORE)) {
                    throw e;
                }
                NOTES.add("PostgreSQL not reachable at " + PG_ADMIN_URL + " (" + e.getMessage() + "): H2 file store used");
            }
        }
        Path dir = OUT.resolve("h2");
        deleteTree(dir);
        Files.createDirectories(dir);
        FIG.put("store", "H2 file (embedded in the agent process), " + dir);
        return StoreSettings.DEFAULT_JDBC_URL.replace("./data/port-camel-agent", dir.resolve("store").toString());
    }

    private static String version(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version")) {
            return rs.next() ? rs.getString(1).split(" ")[0] : "?";
        }
    }

    private static void dropPg(Statement s) throws SQLException {
        try {
            s.execute("DROP DATABASE IF EXISTS " + PG_DB + " WITH (FORCE)");
        } catch (SQLException e) {
            s.execute("DROP DATABASE IF EXISTS " + PG_DB); // before PostgreSQL 13
        }
    }

    /**
     * N tracked runs through the real store API. Each run's state is what CircleCiTracker made of a trigger response
     * and one poll of the fake (Port already shows its label and link), so from the first poll on nothing changes.
     */
    private static void seed(Map<String, String> storeEnv) throws Exception {
        step("seeding " + RUNS + " tracked CircleCI runs through TrackingStore.insert");
        long t0 = System.nanoTime();
        Map<String, String> env = new HashMap<>(storeEnv);
        env.put("TRACKING_POOL_SIZE", "8");
        ObjectNode template = (ObjectNode) JSON.readTree(FIXTURE.toFile());
        template.put("action", "trigger_circle_ci_pipeline");
        CircleCiTracker tracker = new CircleCiTracker();
        var http = circleci.direct();
        Map<String, String> auth = Map.of("Circle-Token", TestSecrets.CIRCLE_TOKEN);
        long now = System.currentTimeMillis();
        long firstDue = now + 5_000; // about when the agent has started
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicInteger inserted = new AtomicInteger();
        try (TrackingStore store = TrackingStore.open(StoreSettings.from(env), TestSecrets.CLIENT_SECRET)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int from = t;
                futures.add(pool.submit(() -> {
                    for (int i = from; i < RUNS; i += 4) {
                        String runId = runId(i);
                        ObjectNode message = template.deepCopy();
                        ((ObjectNode) message.get("context")).put("runId", runId);
                        ObjectNode payload = (ObjectNode) message.get("payload");
                        ((ObjectNode) payload.at("/entity/properties")).put("project_slug", FastCircleCi.slug(i));
                        payload.putObject("properties").put("branch", "main");
                        ObjectNode request = JSON.createObjectNode();
                        request.put("method", "POST");
                        request.put("url", circleci.rootUrl() + "/api/v2/project/" + FastCircleCi.slug(i).replace("/", "%2F") + "/pipeline");
                        request.putObject("headers").put("Circle-Token", TestSecrets.CIRCLE_TOKEN).put("Content-Type", "application/json");
                        ObjectNode response = JSON.createObjectNode().put("id", FastCircleCi.pipelineId(i)).put("state", "created")
                                .put("number", 7).put("created_at", "2026-11-22T00:00:00Z");
                        ObjectNode state = tracker.start(new TrackStart(message, request, auth, 201, response, JSON.createObjectNode()));
                        PollResult first = tracker.poll(state, auth, http);
                        ObjectNode reported = JSON.createObjectNode().put("statusLabel", first.statusLabel())
                                .put("link", first.link()).put("externalRunId", first.externalRunId());
                        long due = firstDue + (long) i * POLL_SECONDS * 1000L / RUNS;
                        TrackedRun run = new TrackedRun(runId, "ACTION_RUN", CircleCiTracker.TYPE, first.state(), auth, message, 0,
                                due, POLL_SECONDS * 1000L, 1, now + 7_200_000L, now - 60_000, reported);
                        if (!store.insert(run)) {
                            throw new IllegalStateException("run " + runId + " already stored");
                        }
                        inserted.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        FIG.put("seed", String.format(Locale.ROOT, "%d runs in %.1f s", inserted.get(), (System.nanoTime() - t0) / 1e9));
        FIG.put("messageBytes", String.valueOf(JSON.writeValueAsBytes(template).length));
    }

    /**
     * The seeded runs fall due one after another over one interval from {@code from} (about when the agent is up), as
     * in a steady state; otherwise the seeding time would make them all due at once when the agent starts.
     */
    private static void spreadDueTimes(Map<String, String> storeEnv, long from) throws SQLException {
        String url = storeEnv.get("TRACKING_JDBC_URL");
        try (Connection c = DriverManager.getConnection(url, storeEnv.getOrDefault("TRACKING_JDBC_USER", ""), storeEnv.getOrDefault("TRACKING_JDBC_PASSWORD", ""));
             PreparedStatement ps = c.prepareStatement("UPDATE tracked_run SET next_poll_at = ? + CAST(SUBSTRING(run_id, 9) AS BIGINT) * ? / ?")) {
            ps.setLong(1, from);
            ps.setLong(2, POLL_SECONDS * 1000L);
            ps.setLong(3, RUNS);
            ps.executeUpdate();
        }
    }

    /** Runs due more than 2 s ago and not polled yet (PostgreSQL only: the agent holds the H2 file). */
    private static String backlog(String jdbcUrl) {
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            return "n/a (H2)";
        }
        try (Connection c = DriverManager.getConnection(jdbcUrl, PG_USER, PG_PASSWORD);
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM tracked_run WHERE status = 'TRACKING' AND next_poll_at < ?")) {
            ps.setLong(1, System.currentTimeMillis() - 2000);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return String.valueOf(rs.getLong(1));
            }
        } catch (SQLException e) {
            return "n/a (" + e.getMessage() + ")";
        }
    }

    // ---------------------------------------------------------------- the agent process

    private static Map<String, String> agentEnv(Map<String, String> storeEnv, int mgmt) throws IOException {
        Map<String, String> env = new HashMap<>();
        String path = System.getenv("PATH");
        env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + (path == null ? "" : ":" + path));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("PORT_ORG_ID", ORG);
        env.put("PORT_CLIENT_ID", CLIENT_ID);
        env.put("PORT_CLIENT_SECRET", TestSecrets.CLIENT_SECRET);
        env.put("PORT_API_BASE_URL", port.baseUrl());
        env.put("STREAMER_NAME", "POLLING"); // no broker needed; Port's claim queue stays empty
        env.put("AGENT_HTTP_PORT", String.valueOf(freePort()));
        env.put("AGENT_MANAGEMENT_PORT", String.valueOf(mgmt));
        env.put("CAMEL_SERVER_HOST", "127.0.0.1");
        env.put("CIRCLE_CI_URL", circleci.rootUrl());
        env.put("CIRCLE_CI_TOKEN", TestSecrets.CIRCLE_TOKEN);
        env.put("TRACKING_POLL_INTERVAL_SECONDS", String.valueOf(POLL_SECONDS));
        env.put("TRACKING_MAX_POLL_INTERVAL_SECONDS", String.valueOf(POLL_SECONDS));
        env.put("HOSTNAME", "bench-tracking");
        env.putAll(storeEnv);
        for (String kv : AGENT_ENV.split(",")) {
            if (kv.contains("=")) {
                env.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
            }
        }
        FIG.put("agentEnv", env.entrySet().stream().filter(e -> e.getKey().startsWith("TRACKING_") && !e.getKey().endsWith("PASSWORD"))
                .sorted(Map.Entry.comparingByKey()).map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")));
        return env;
    }

    private static Process startAgent(Map<String, String> env) throws IOException {
        if (!Files.isRegularFile(JAR) || !Files.isDirectory(JAR.resolveSibling("lib"))) {
            throw new IllegalStateException(JAR + " or target/lib is missing: package first (scripts/bench-tracking.sh does)");
        }
        Path app = OUT.resolve("app");
        deleteTree(app);
        Files.createDirectories(app);
        io.portcamel.agent.testsupport.TestFiles.copyTree(Path.of("routes"), app.resolve("routes"));
        Files.copy(Path.of("application.properties"), app.resolve("application.properties"));
        Files.copy(Path.of("invocations.json"), app.resolve("invocations.json"));
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + XMX,
                "-jar", JAR.toString());
        FIG.put("command", String.join(" ", cmd).replace(System.getProperty("java.home"), "$JAVA_HOME"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(app.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectErrorStream(true).redirectOutput(OUT.resolve("agent.log").toFile());
        agent = pb.start();
        return agent;
    }

    private static void alive(Process p) {
        if (p != null && !p.isAlive()) {
            throw new IllegalStateException("the agent process exited with " + p.exitValue() + "; see " + OUT.resolve("agent.log"));
        }
    }

    private static boolean awaitReady(int mgmt, long timeoutMs, Process p) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        URI uri = URI.create("http://127.0.0.1:" + mgmt + "/observe/health/ready");
        while (System.currentTimeMillis() < deadline) {
            alive(p);
            try {
                if (PROBE.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return true;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** SIGTERM (Camel shuts down), SIGKILL after 20 s. */
    private static void stopAgent() throws InterruptedException {
        Process p = agent;
        if (p == null) {
            return;
        }
        step("stopping the agent (pid " + p.pid() + ")");
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        agent = null;
    }

    private static synchronized void cleanup() {
        Process p = agent;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        agent = null;
        if (pgCreated) {
            try (Connection c = DriverManager.getConnection(PG_ADMIN_URL, PG_USER, PG_PASSWORD); Statement s = c.createStatement()) {
                dropPg(s);
                pgCreated = false;
            } catch (SQLException e) {
                System.out.println("!! could not drop database " + PG_DB + ": " + e.getMessage());
            }
        }
        try {
            deleteTree(OUT.resolve("h2"));
            deleteTree(OUT.resolve("app").resolve("data"));
        } catch (IOException e) {
            // best effort
        }
        FastCircleCi ci = circleci;
        if (ci != null) {
            ci.close();
        }
        FakePort fp = port;
        if (fp != null) {
            try {
                fp.close();
            } catch (Exception e) {
                // best effort
            }
        }
    }

    // ---------------------------------------------------------------- measurements

    /** What the counters say at one instant. */
    private record Snapshot(long nanos, long agentTicks, long pgTicks, long selfTicks, long machineBusy, long softirq, long pipelineGets,
                            long ciRequests, double gcPauseSeconds, double gcPauses, double heapBytes,
                            Map<String, Long> threadTicks) {
        static Snapshot take(long pid, int mgmt) {
            Map<String, Double> m = metrics(mgmt);
            return new Snapshot(System.nanoTime(), procTicks(String.valueOf(pid)), postgresTicks(), procTicks("self"), TrackingScaleBenchmark.machineBusy(), cpuField(7),
                    circleci.pipelineGets(), circleci.requests(), m.getOrDefault("gcSeconds", 0.0), m.getOrDefault("gcCount", 0.0),
                    m.getOrDefault("heap", Double.NaN), TrackingScaleBenchmark.threadTicks(pid));
        }
    }

    /** Heap in use, live threads and GC pauses from the agent's /observe/metrics. */
    private static Map<String, Double> metrics(int mgmt) {
        Map<String, Double> out = new HashMap<>();
        try {
            String text = PROBE.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mgmt + "/observe/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            for (String line : text.split("\n")) {
                if (line.startsWith("#")) {
                    continue;
                }
                double v;
                try {
                    v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                } catch (RuntimeException e) {
                    continue;
                }
                if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                    out.merge("heap", v, Double::sum);
                } else if (line.startsWith("jvm_threads_live_threads")) {
                    out.put("threads", v);
                } else if (line.startsWith("jvm_gc_pause_seconds_sum")) {
                    out.merge("gcSeconds", v, Double::sum);
                } else if (line.startsWith("jvm_gc_pause_seconds_count")) {
                    out.merge("gcCount", v, Double::sum);
                }
            }
        } catch (Exception e) {
            // the agent is busy or gone: NaN
        }
        return out;
    }

    /** jcmd GC.run, then the heap in use: what 10,000 tracked runs really keep (G1 otherwise fills up to -Xmx). */
    private static String heapAfterFullGc(long pid, int mgmt) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            return "n/a (no jcmd)";
        }
        try {
            Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid), "GC.run").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "n/a (jcmd timed out)";
            }
            double heap = metrics(mgmt).getOrDefault("heap", Double.NaN);
            return f0(heap / 1048576.0);
        } catch (Exception e) {
            return "n/a (" + e.getMessage() + ")";
        }
    }

    /** utime + stime of a process (/proc/PID/stat fields 14 and 15), in clock ticks. */
    private static long procTicks(String pid) {
        try {
            return ticks(Files.readString(Path.of("/proc", pid, "stat")));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static long ticks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14, 15 counted from after "(comm) "
    }

    /** Per thread name (digits folded), utime + stime. */
    private static Map<String, Long> threadTicks(long pid) {
        Map<String, Long> out = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[0-9]+", "#");
                    out.merge(name, ticks(stat), Long::sum);
                } catch (IOException | RuntimeException gone) {
                    // the thread ended
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return out;
    }

    private static String topThreads(Map<String, Long> before, Map<String, Long> after, double secs) {
        return after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(6)
                .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey().trim(), e.getValue() / (double) CLK_TCK / secs))
                .collect(Collectors.joining(", "));
    }

    /** CPU of every process named postgres (the server and its backends), in clock ticks. */
    private static long postgresTicks() {
        long sum = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).toList()) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    if (stat.contains("(postgres)")) {
                        sum += ticks(stat);
                    }
                } catch (IOException | RuntimeException gone) {
                    // the process ended
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return sum;
    }

    /** One field of /proc/stat's cpu line (7: softirq, where the kernel handles the loopback traffic), in clock ticks. */
    private static long cpuField(int i) {
        try {
            return Long.parseLong(Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+")[i]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Busy clock ticks of the whole machine (/proc/stat: all but idle and iowait). */
    private static long machineBusy() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                if (i != 4 && i != 5) {
                    busy += Long.parseLong(f[i]);
                }
            }
            return busy;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    // ---------------------------------------------------------------- Port requests

    private static List<LoggedRequest> portRequests(int skip, long from, long to) {
        List<LoggedRequest> all = port.allRequests();
        return all.stream().filter(r -> r.getLoggedDate() != null && r.getLoggedDate().getTime() >= from
                && r.getLoggedDate().getTime() <= to).toList();
    }

    /** A call that changes what a run shows (log, PATCH, response, entity), not token/claim/ack. */
    private static boolean isRunUpdate(LoggedRequest r) {
        String path = r.getUrl().split("\\?")[0];
        if (path.startsWith("/v1/blueprints/")) {
            return true;
        }
        return path.startsWith("/v1/actions/runs/") && !path.equals("/v1/actions/runs/claim-pending")
                && !path.equals("/v1/actions/runs/ack") && !"GET".equals(r.getMethod().getName());
    }

    private static String runIdOf(LoggedRequest r) {
        String path = r.getUrl().split("\\?")[0];
        if (path.startsWith("/v1/actions/runs/")) {
            return path.substring("/v1/actions/runs/".length()).split("/")[0];
        }
        String q = r.getUrl().contains("run_id=") ? r.getUrl().substring(r.getUrl().indexOf("run_id=") + 7).split("&")[0] : "";
        return q;
    }

    static String runId(int i) {
        return String.format(Locale.ROOT, "r_bench_%05d", i);
    }

    static List<String> expectedLines() {
        return List.of("Workflow \"build\" success", "Job \"compile\" (#1) success", "Job \"test\" (#2) success",
                "Pipeline succeeded: " + expectedSummary());
    }

    static String expectedSummary() {
        return "CircleCI pipeline 7 succeeded (workflows: build)";
    }

    // ---------------------------------------------------------------- report

    private static void report() {
        StringBuilder out = new StringBuilder();
        out.append("\n=== Tracking at scale (issue 6): ").append(RUNS).append(" tracked CircleCI runs, each polled every ")
                .append(POLL_SECONDS).append(" s ===\n");
        out.append(String.format(Locale.ROOT, "date %s, commit %s, %d CPUs (%s), Java %s%n",
                ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE), Machine.git("rev-parse", "--short", "HEAD"),
                Runtime.getRuntime().availableProcessors(), Machine.cpuModel(), System.getProperty("java.version")));
        out.append("agent: ").append(fig("command")).append(" (ready in ").append(fig("ready")).append("); ")
                .append(fig("agentEnv")).append('\n');
        out.append("store: ").append(fig("store")).append("; seeded ").append(fig("seed")).append(" (Port message ")
                .append(fig("messageBytes")).append(" bytes each)\n");
        out.append("CircleCI fake: ").append(CI_LATENCY_MS == 0 ? "no added latency" : CI_LATENCY_MS + " ms added to every answer")
                .append('\n');
        out.append("window: ").append(fig("window")).append(" after a ").append(WARMUP_SECONDS).append(" s warm-up, no pipeline changing\n\n");

        ROWS.clear();
        row("agent CPU (cores, utime+stime of its process)", fig("agentCores"), "<= " + CORE_TARGET, le(fig("agentCores"), CORE_TARGET));
        row("heap in use, max of 2 s samples (MB, -Xmx" + XMX + ")", fig("heapMax"), "<= " + HEAP_TARGET_MB,
                le(fig("heapMax"), HEAP_TARGET_MB));
        row("heap live after a full GC (MB)", fig("heapLive"), "<= " + HEAP_TARGET_MB, le(fig("heapLive"), HEAP_TARGET_MB));
        row("polls/s at the CircleCI fake", fig("polls"), "~" + fig("expectedPolls") + " (N / interval, >= 95 %)",
                ge(fig("polls"), num(fig("expectedPolls")) * 0.95));
        row("gap between two polls of a pipeline p50 / p99 / max", fig("gapP50") + " / " + fig("gapP99") + " / " + fig("gapMax"),
                "p99 <= " + (POLL_SECONDS + 1) + " s", le(fig("gapP99").replace(" s", ""), POLL_SECONDS + 1));
        row("Port run updates with nothing changing", fig("portRunUpdates"), "0", "0".equals(fig("portRunUpdates")) ? "met" : "MISS");
        row("changed runs ended in Port, exactly as expected", fig("changedExact") + " of " + fig("changed"), fig("changed"),
                fig("changed").equals(fig("changedExact")) ? "met" : "MISS");
        row("Port run updates for the changed runs", fig("updatesForChanged"), fig("updatesExpected") + " (4 logs + 1 PATCH each)",
                fig("updatesExpected").equals(fig("updatesForChanged")) ? "met" : "MISS");
        row("Port run updates for the unchanged runs", fig("updatesForOthers"), "0", "0".equals(fig("updatesForOthers")) ? "met" : "MISS");
        int w = ROWS.stream().mapToInt(r -> r[0].length()).max().orElse(10);
        int w2 = ROWS.stream().mapToInt(r -> r[1].length()).max().orElse(10);
        int w3 = ROWS.stream().mapToInt(r -> r[2].length()).max().orElse(10);
        for (String[] r : ROWS) {
            out.append(String.format(Locale.ROOT, "  %-" + w + "s  %" + w2 + "s  %-" + w3 + "s  %s%n", r[0], r[1], r[2], r[3]));
        }
        out.append("\nmore:\n");
        out.append("  heap in use avg ").append(fig("heapAvg")).append(" MB; RSS max ").append(fig("rssMax")).append(" MB; live threads ")
                .append(fig("threads")).append("; GC ").append(fig("gc")).append('\n');
        out.append("  CPU in the window (cores): agent ").append(fig("agentCores")).append(", PostgreSQL (all its processes) ")
                .append(fig("pgCores")).append(", this JVM (fakes) ").append(fig("benchCores")).append(", kernel softirq (loopback network) ")
                .append(fig("softirqCores")).append(", other processes ").append(fig("othersCores")).append(", whole machine ").append(fig("machineCores")).append('\n');
        out.append("  agent CPU by thread (cores): ").append(fig("threadsTop")).append('\n');
        out.append("  CircleCI HTTP requests/s ").append(fig("ciHttp")).append(" (pipeline + workflows + jobs per poll); gaps recorded ")
                .append(fig("gapCount")).append(", >= ").append(POLL_SECONDS + 2).append(" s: ").append(fig("gapsLate"))
                .append(", < ").append(POLL_SECONDS - 1).append(" s: ").append(fig("gapsEarly")).append("; runs overdue > 2 s at the end: ")
                .append(fig("backlog")).append('\n');
        out.append("  other Port calls in the window: ").append(fig("portOther")).append('\n');
        out.append("  after the change: ").append(fig("changedEnded")).append(" runs SUCCESS in Port, change → Port p50 ")
                .append(fig("changeToPortP50")).append(", max ").append(fig("changeToPortMax")).append("; finished pipelines polled again: ")
                .append(fig("finishedPolls")).append(" (once each to see the end); polls/s meanwhile ").append(fig("changePolls")).append('\n');
        out.append("  contract violations: ").append(fig("contract")).append('\n');
        NOTES.forEach(n -> out.append("  note: ").append(n).append('\n'));
        out.append("  agent log: ").append(OUT.resolve("agent.log")).append('\n');
        System.out.print(out);
        try {
            Files.writeString(OUT.resolve("report.txt"), out.toString());
        } catch (IOException e) {
            // printed anyway
        }
    }

    private static void row(String what, String value, String target, String verdict) {
        ROWS.add(new String[]{what, value, target, verdict});
    }

    private static String le(String value, double max) {
        double v = num(value);
        return Double.isNaN(v) ? "n/a" : v <= max ? "met" : "MISS";
    }

    private static String ge(String value, double min) {
        double v = num(value);
        return Double.isNaN(v) ? "n/a" : v >= min ? "met" : "MISS";
    }

    private static double num(String s) {
        try {
            return Double.parseDouble(s.trim().split(" ")[0]);
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    private static String fig(String key) {
        return FIG.getOrDefault(key, "n/a");
    }

    private static String f0(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String f2(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String sec(long ms) {
        return ms < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }

    private static String pct(long part, long whole) {
        return String.format(Locale.ROOT, "%.1f %%", 100.0 * part / whole);
    }

    // ---------------------------------------------------------------- helpers

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? Long.parseLong(out) : 100;
        } catch (Exception e) {
            return 100;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    private static void step(String what) {
        System.out.printf(Locale.ROOT, "[%5.1f s] %s%n", (System.nanoTime() - T_START) / 1e9, what);
    }
}
