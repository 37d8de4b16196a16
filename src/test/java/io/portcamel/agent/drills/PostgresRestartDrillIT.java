package io.portcamel.agent.drills;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;

import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.drills.DrillSupport.Agent;
import io.portcamel.agent.drills.DrillSupport.TriggerCounter;
import io.portcamel.agent.testsupport.EmbeddedKafka;
import io.portcamel.agent.testsupport.FakePort;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Drill (issue 4): PostgreSQL restarted under load. The agent (its own JVM, KAFKA ingress, store on PostgreSQL)
 * handles a burst of synchronized runs; after the target's 40th call the database is restarted. A record that could
 * not be recorded is read again (never skipped); a run cut off part-way ends FAILURE through the watchdog. Counts:
 * lost runs, duplicate triggers, runs left IN_PROGRESS — all must be 0.
 */
class PostgresRestartDrillIT {
    static final int RUNS = 150;
    static final int RESTART_AT = 40;
    static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";
    static final Duration BUDGET = Duration.ofSeconds(80);

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 89, unit = TimeUnit.SECONDS)
    void restartingPostgresUnderLoadLosesNothingAndTriggersNothingTwice() throws Exception {
        String schema = "drill_pg_" + Long.toHexString(System.nanoTime());
        try (Connection c = DriverManager.getConnection(PG_URL, "postgres", null); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        } catch (Exception e) {
            fail("PostgreSQL is not reachable at " + PG_URL + " (.ci/run starts it): " + e.getMessage());
        }
        long t0 = System.nanoTime();
        EmbeddedKafka kafka = EmbeddedKafka.start(1);
        FakePort port = new FakePort(DrillSupport.CLIENT_ID, TestSecrets.CLIENT_SECRET);
        TriggerCounter triggers = new TriggerCounter();
        WireMockServer target = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort()
                .extensions(triggers));
        Agent agent = null;
        try {
            DrillSupport.createTopics(kafka);
            target.start();
            target.stubFor(post(urlPathEqualTo("/deploy")).willReturn(aResponse().withStatus(200)
                    .withHeader("Content-Type", "application/json").withBody("{\"deployed\":true}").withFixedDelay(20)));
            Path app = DrillSupport.workDir(tmp, DrillSupport.seedMappings());
            Map<String, String> env = DrillSupport.agentEnv(port, kafka, DrillSupport.ORG + ".drill-pg", "drill-pg");
            env.put("TRACKING_JDBC_URL", PG_URL + "?currentSchema=" + schema);
            env.put("TRACKING_JDBC_USER", "postgres");
            env.put("WEBHOOK_INVOKER_TIMEOUT", "1");
            env.put("TRACKING_LEASE_SECONDS", "10");
            agent = Agent.start("A", app, env);
            agent.awaitReady(Duration.ofSeconds(45));

            CountDownLatch restartNow = new CountDownLatch(1);
            triggers.onRequest(runId -> {
                if (triggers.total.get() == RESTART_AT) {
                    restartNow.countDown();
                }
            });
            List<String> runIds = new ArrayList<>();
            try (KafkaProducer<String, byte[]> producer = DrillSupport.producer(kafka)) {
                for (int i = 0; i < RUNS; i++) {
                    String runId = String.format("r_drill_pg_%04d", i);
                    runIds.add(runId);
                    producer.send(new ProducerRecord<>(DrillSupport.RUNS, runId,
                            DrillSupport.bytes(DrillSupport.signed(DrillSupport.webhookRun(runId, target.baseUrl() + "/deploy", true)))));
                }
                producer.flush();
            }
            if (!restartNow.await(30, TimeUnit.SECONDS)) {
                fail("the target never got " + RESTART_AT + " calls" + agent.tail(60));
            }
            long tRestart = System.nanoTime();
            Process restart = new ProcessBuilder("bash", "-c",
                    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main restart").inheritIO().start();
            if (!restart.waitFor(30, TimeUnit.SECONDS) || restart.exitValue() != 0) {
                fail("pg_ctlcluster restart failed");
            }
            double restartSeconds = (System.nanoTime() - tRestart) / 1e9;

            long deadline = t0 + BUDGET.toNanos();
            while (System.nanoTime() < deadline && runIds.stream().anyMatch(r -> !DrillSupport.terminal(port, r))) {
                Thread.sleep(250);
            }
            List<String> notTerminal = DrillSupport.where(runIds, r -> !DrillSupport.terminal(port, r));
            List<String> duplicates = DrillSupport.where(runIds, r -> triggers.count(r) > 1);
            List<String> failed = DrillSupport.where(runIds, r -> "FAILURE".equals(port.run(r).path("status").asText()));
            long success = runIds.stream().filter(r -> "SUCCESS".equals(port.run(r).path("status").asText())).count();
            String report = String.format("=== PostgresRestartDrillIT report ===%n"
                            + "runs %d, PostgreSQL restarted after target call #%d (restart took %.1f s), drill total %.1f s%n"
                            + "ended in Port: SUCCESS %d, FAILURE %d %s%n"
                            + "LOST or STUCK (no terminal status in Port): %d %s%n"
                            + "DUPLICATE TRIGGERS: %d %s%n"
                            + "target calls in all: %d; agent alive at the end: %s%n",
                    RUNS, RESTART_AT, restartSeconds, (System.nanoTime() - t0) / 1e9, success, failed.size(), failed,
                    notTerminal.size(), notTerminal, duplicates.size(), duplicates, triggers.total.get(), agent.process.isAlive());
            System.out.println(report);
            Files.createDirectories(Path.of("target/drills"));
            Files.writeString(Path.of("target/drills/PostgresRestartDrillIT.txt"), report);
            DrillSupport.publish("PostgresRestartDrillIT-agent-output", agent.output());
            assertEquals(List.of(), notTerminal, () -> report + agent_tail(notTerminal, port));
            assertEquals(List.of(), duplicates, report);
        } finally {
            if (agent != null) agent.close();
            target.stop();
            port.close();
            kafka.close();
            try (Connection c = DriverManager.getConnection(PG_URL, "postgres", null); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    private static String agent_tail(List<String> runs, FakePort port) {
        StringBuilder sb = new StringBuilder();
        runs.stream().limit(5).forEach(r -> sb.append("\n  ").append(r).append(": ").append(port.logMessages(r)));
        return sb.toString();
    }
}
