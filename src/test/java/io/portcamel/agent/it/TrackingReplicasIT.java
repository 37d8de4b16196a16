package io.portcamel.agent.it;

import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.it.TrackingProcessSupport.HoldableCircleCi;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.portcamel.agent.it.TrackingProcessSupport.FIRST_POLL_LINE;
import static io.portcamel.agent.it.TrackingProcessSupport.agentEnv;
import static io.portcamel.agent.it.TrackingProcessSupport.assertRunEndedOnce;
import static io.portcamel.agent.it.TrackingProcessSupport.assertTriggeredOnce;
import static io.portcamel.agent.it.TrackingProcessSupport.closePolls;
import static io.portcamel.agent.it.TrackingProcessSupport.closeQuietly;
import static io.portcamel.agent.it.TrackingProcessSupport.inject;
import static io.portcamel.agent.it.TrackingProcessSupport.kill9;
import static io.portcamel.agent.it.TrackingProcessSupport.newRunId;
import static io.portcamel.agent.it.TrackingProcessSupport.outputOf;
import static io.portcamel.agent.it.TrackingProcessSupport.pipelineGets;
import static io.portcamel.agent.it.TrackingProcessSupport.pipelineId;
import static io.portcamel.agent.it.TrackingProcessSupport.scriptNext;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two agent processes sharing one PostgreSQL tracking store (a fresh schema per test, dropped after), each with its own
 * working directory and HTTP port, TRACKING_LEASE_SECONDS=5, runs injected through both webhook ingresses in turn.
 *
 * <p>PostgreSQL: {@code -Dit.pg.url} (default {@code jdbc:postgresql://127.0.0.1:5432/test}), {@code -Dit.pg.user}
 * (default postgres), {@code -Dit.pg.password} (default none). Not reachable = the test fails (CI starts it).
 */
class TrackingReplicasIT {

    private static final String PG_URL = System.getProperty("it.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
    private static final String PG_USER = System.getProperty("it.pg.user", "postgres");
    private static final String PG_PASSWORD = System.getProperty("it.pg.password", "");
    private static final int LEASE_SECONDS = 5;
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    private String schema;
    private FakePort port;
    private HoldableCircleCi circleci;
    private AgentProcess a;
    private AgentProcess b;
    private int portA;
    private int portB;
    private HttpClient http;

    @BeforeEach
    void startTwoReplicas() throws Exception {
        schema = "it_replicas_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = pg(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        port = new FakePort(TrackingProcessSupport.CLIENT_ID, TestSecrets.CLIENT_SECRET);
        circleci = new HoldableCircleCi(TestSecrets.CIRCLE_TOKEN);
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        portA = AgentProcess.freePort();
        portB = AgentProcess.freePort();
        // started together (the schema migration takes turns through an advisory lock), then awaited
        a = AgentProcess.start(AgentProcess.workDir(tmp), replicaEnv(portA, "replica-a"));
        b = AgentProcess.start(AgentProcess.workDir(tmp), replicaEnv(portB, "replica-b"));
        a.awaitListening(portA, Duration.ofSeconds(90));
        b.awaitListening(portB, Duration.ofSeconds(90));
    }

    private Map<String, String> replicaEnv(int httpPort, String hostname) {
        Map<String, String> env = agentEnv(port, circleci, httpPort, hostname);
        env.put("TRACKING_JDBC_URL", PG_URL + (PG_URL.contains("?") ? "&" : "?") + "currentSchema=" + schema);
        env.put("TRACKING_JDBC_USER", PG_USER);
        if (!PG_PASSWORD.isEmpty()) {
            env.put("TRACKING_JDBC_PASSWORD", PG_PASSWORD);
        }
        env.put("TRACKING_LEASE_SECONDS", String.valueOf(LEASE_SECONDS));
        // a small batch per tick, so one replica cannot lease every due run at once and both share the work
        env.put("TRACKING_BATCH_SIZE", "2");
        return env;
    }

    @AfterEach
    void stopAll() {
        closeQuietly(a);
        closeQuietly(b);
        closeQuietly(circleci);
        closeQuietly(port);
        if (schema != null) {
            try (Connection c = pg(); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            } catch (Exception e) {
                System.err.println("could not drop schema " + schema + ": " + e);
            }
        }
    }

    private static Connection pg() {
        try {
            return DriverManager.getConnection(PG_URL, PG_USER, PG_PASSWORD.isEmpty() ? null : PG_PASSWORD);
        } catch (SQLException e) {
            return fail("PostgreSQL is not reachable at " + PG_URL + " as " + PG_USER + " (" + e.getMessage()
                    + "); this test needs it (CI starts it; locally: pg_ctlcluster --skip-systemctl-redirect <version> main start)", e);
        }
    }

    private Connection store() throws SQLException {
        return DriverManager.getConnection(PG_URL + (PG_URL.contains("?") ? "&" : "?") + "currentSchema=" + schema,
                PG_USER, PG_PASSWORD.isEmpty() ? null : PG_PASSWORD);
    }

    private String outputs() {
        return outputOf("replica A", a) + outputOf("replica B", b);
    }

    /** Injects runs through A and B in turn; each pipeline runs {@code runningPolls} polls before it moves on. */
    private List<String> injectAlternately(int count, int runningPolls) throws Exception {
        List<String> runIds = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String runId = newRunId();
            scriptNext(circleci, runningPolls);
            inject(http, i % 2 == 0 ? portA : portB, runId, this::outputs);
            runIds.add(runId);
        }
        return runIds;
    }

    private void awaitAllSuccess(List<String> runIds) {
        for (String runId : runIds) {
            try {
                port.awaitStatus(runId, "SUCCESS", TIMEOUT);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + outputs(), e);
            }
        }
    }

    private Map<String, String> pipelines(List<String> runIds) {
        Map<String, String> m = new LinkedHashMap<>();
        runIds.forEach(r -> m.put(r, pipelineId(circleci, r)));
        return m;
    }

    /** The replica (hostname part of the replica id) that logged the end of each run. */
    private Map<String, String> endedBy(List<String> runIds) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String runId : runIds) {
            boolean byA = a.output().contains("run " + runId + ": SUCCESS");
            boolean byB = b.output().contains("run " + runId + ": SUCCESS");
            m.put(runId, byA && byB ? "A+B" : byA ? "A" : byB ? "B" : "?");
        }
        return m;
    }

    // ---------------------------------------------------------------- tests

    @Test
    void eachRunIsPolledByOneReplicaAtATime() throws Exception {
        List<String> runIds = injectAlternately(10, 4);
        awaitAllSuccess(runIds);
        Thread.sleep(500);

        Map<String, String> pipelines = pipelines(runIds);
        Map<String, List<Long>> close = closePolls(circleci, pipelines, 500);
        assertTrue(close.isEmpty(), () -> "pipelines polled twice within 500 ms (two replicas at once?): " + close + outputs());
        for (String runId : runIds) {
            assertRunEndedOnce(port, runId);
        }
        assertTriggeredOnce(circleci, runIds);
        Map<String, String> endedBy = endedBy(runIds);
        System.out.println("runs ended by replica: " + endedBy);
        assertFalse(endedBy.containsValue("A+B"), () -> "a run was ended by both replicas: " + endedBy);
        assertFalse(endedBy.containsValue("?"), () -> "a run's end was logged by no replica: " + endedBy + outputs());
        assertTrue(endedBy.containsValue("A") && endedBy.containsValue("B"),
                () -> "the replicas did not share the work: " + endedBy + outputs());
        port.assertNoContractViolations();
        circleci.assertNoContractViolations();
    }

    @Test
    void aKilledReplicasLeasedRunsAreTakenOverAfterTheLeaseExpires() throws Exception {
        List<String> runIds = injectAlternately(6, 10);
        for (String runId : runIds) {
            port.awaitLog(runId, FIRST_POLL_LINE::equals, Duration.ofSeconds(30));
        }
        // pipeline GETs now hang 3 s (< the 5 s lease): whatever a replica leases next, it still holds when A dies
        circleci.holdPipelineGets(3000);
        Map<String, Long> leasedByA = new LinkedHashMap<>();
        long deadline = System.currentTimeMillis() + 6000;
        while (leasedByA.isEmpty() && System.currentTimeMillis() < deadline) {
            leasedByA.putAll(liveLeases("replica-a-"));
            if (leasedByA.isEmpty()) {
                Thread.sleep(20);
            }
        }
        assertFalse(leasedByA.isEmpty(), () -> "replica A never held a lease while pipeline GETs were held" + outputs());

        kill9(a);
        long killedAt = System.currentTimeMillis();
        leasedByA.clear();
        leasedByA.putAll(liveLeases("replica-a-")); // what the dead replica left behind
        circleci.holdPipelineGets(0);
        assertFalse(leasedByA.isEmpty(), "the killed replica left no lease behind");
        for (String runId : runIds) {
            assertFalse("SUCCESS".equals(port.run(runId).path("status").asText()), "run ended before the kill: " + runId);
        }

        awaitAllSuccess(runIds);
        Thread.sleep(500);

        Map<String, String> pipelines = pipelines(runIds);
        for (Map.Entry<String, Long> lease : leasedByA.entrySet()) {
            String runId = lease.getKey();
            long leaseUntil = lease.getValue();
            List<Long> gets = pipelineGets(circleci, pipelines.get(runId));
            long firstByB = gets.stream().filter(t -> t > killedAt).findFirst()
                    .orElseThrow(() -> new AssertionError("run " + runId + " was never polled after A died"));
            // not before the lease expired (a few ms of slack for clock reads), and not much later either
            assertTrue(firstByB >= leaseUntil - 20, () -> "run " + runId + " leased by A until " + leaseUntil
                    + " was polled by B at " + firstByB + ", before the lease expired");
            assertTrue(firstByB <= leaseUntil + 4000, () -> "run " + runId + " leased by A until " + leaseUntil
                    + " was taken over only at " + firstByB);
            System.out.println("run " + runId + ": A's lease ended " + (leaseUntil - killedAt) + " ms after the kill, B polled it "
                    + (firstByB - leaseUntil) + " ms after that");
        }
        Map<String, List<Long>> close = closePolls(circleci, pipelines, 500);
        assertTrue(close.isEmpty(), () -> "pipelines polled twice within 500 ms: " + close + outputs());
        for (String runId : runIds) {
            assertRunEndedOnce(port, runId);
            assertFalse(a.output().contains("run " + runId + ": SUCCESS"), "the killed replica ended " + runId);
        }
        assertTriggeredOnce(circleci, runIds);
        assertEquals(0, countTracking(), "runs still TRACKING in the store");
        assertTrue(b.process().isAlive(), () -> "replica B died" + outputs());
        port.assertNoContractViolations();
        circleci.assertNoContractViolations();
    }


    /** run id → lease_until of the runs whose live lease belongs to a replica id starting with {@code ownerPrefix}. */
    private Map<String, Long> liveLeases(String ownerPrefix) throws SQLException {
        Map<String, Long> m = new LinkedHashMap<>();
        try (Connection c = store(); PreparedStatement ps = c.prepareStatement("SELECT run_id, lease_until FROM tracked_run "
                + "WHERE status = 'TRACKING' AND lease_owner LIKE ? AND lease_until > ?")) {
            ps.setString(1, ownerPrefix + "%");
            ps.setLong(2, System.currentTimeMillis());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    m.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return m;
    }

    private int countTracking() throws SQLException {
        try (Connection c = store(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM tracked_run WHERE status = 'TRACKING'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
