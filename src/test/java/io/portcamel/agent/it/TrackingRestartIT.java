package io.portcamel.agent.it;

import io.portcamel.agent.TestSecrets;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.testsupport.FakePort;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.portcamel.agent.it.TrackingProcessSupport.FIRST_POLL_LINE;
import static io.portcamel.agent.it.TrackingProcessSupport.agentEnv;
import static io.portcamel.agent.it.TrackingProcessSupport.assertRunEndedOnce;
import static io.portcamel.agent.it.TrackingProcessSupport.assertTriggeredOnce;
import static io.portcamel.agent.it.TrackingProcessSupport.closeQuietly;
import static io.portcamel.agent.it.TrackingProcessSupport.inject;
import static io.portcamel.agent.it.TrackingProcessSupport.kill9;
import static io.portcamel.agent.it.TrackingProcessSupport.newRunId;
import static io.portcamel.agent.it.TrackingProcessSupport.outputOf;
import static io.portcamel.agent.it.TrackingProcessSupport.pipelineGets;
import static io.portcamel.agent.it.TrackingProcessSupport.pipelineId;
import static io.portcamel.agent.it.TrackingProcessSupport.scriptNext;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A crash of a single agent (embedded H2 file, the default store) in the middle of following pipelines: agent A
 * triggers 5 tracked CircleCI runs and follows them, is SIGKILLed while they still run, and agent B started on the
 * same working directory (same {@code ./data} H2 file, as a restarted container with a volume) follows them to
 * their end from the state A saved: every run SUCCESS with its link, each log line once, no pipeline triggered twice.
 *
 * <p>A is killed while the pipelines show no change (the first "running" snapshot is repeated for many polls), so
 * none of A's polls can be between "Port took a log line" and "the state was saved" at the kill: a line B sends
 * again would then mean B did not resume from A's saved state (lost commit, wrong state), which is what this test
 * is about.
 */
class TrackingRestartIT {

    private static final int RUNS = 5;
    /** Polls of "still running" per pipeline; A is killed within the first few, B sees the rest and the end. */
    private static final int RUNNING_POLLS = 10;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void restartOnTheSameH2FileResumesEveryRunWithoutRepeatingAnything() throws Exception {
        FakePort port = null;
        FakeCircleCi circleci = null;
        AgentProcess a = null;
        AgentProcess b = null;
        try {
            port = new FakePort(TrackingProcessSupport.CLIENT_ID, TestSecrets.CLIENT_SECRET);
            circleci = new FakeCircleCi(TestSecrets.CIRCLE_TOKEN);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            Path workDir = AgentProcess.workDir(tmp);
            int httpPort = AgentProcess.freePort();
            Map<String, String> env = agentEnv(port, circleci, httpPort, "single");
            // a lease left by the killed process is honoured by the next one: keep that wait short here
            env.put("TRACKING_LEASE_SECONDS", "5");

            a = TrackingProcessSupport.startAgent(workDir, env);
            final AgentProcess agentA = a;
            List<String> runIds = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                String runId = newRunId();
                scriptNext(circleci, RUNNING_POLLS);
                inject(http, httpPort, runId, () -> outputOf("A", agentA));
                runIds.add(runId);
            }
            for (String runId : runIds) {
                port.awaitLog(runId, FIRST_POLL_LINE::equals, Duration.ofSeconds(20));
            }
            // A's first poll of each run is saved once its second poll has begun (a run is leased again only after
            // the previous poll's reschedule): from then on A's polls see identical snapshots and send nothing
            for (String runId : runIds) {
                String pid = pipelineId(circleci, runId);
                long until = System.currentTimeMillis() + 20_000;
                while (pipelineGets(circleci, pid).size() < 2 && System.currentTimeMillis() < until) {
                    Thread.sleep(20);
                }
                assertTrue(pipelineGets(circleci, pid).size() >= 2, () -> "A did not poll run " + runId + " twice" + outputOf("A", agentA));
            }
            Map<String, Integer> pollsByA = new LinkedHashMap<>();
            for (String runId : runIds) {
                pollsByA.put(runId, pipelineGets(circleci, pipelineId(circleci, runId)).size());
            }

            kill9(a);
            long killedAt = System.currentTimeMillis();
            assertTrue(Files.exists(workDir.resolve("data")), "the H2 store should live in ./data of the working dir");
            for (Map.Entry<String, Integer> e : pollsByA.entrySet()) {
                // the kill happened inside the stretch of identical snapshots (see the class comment)
                assertTrue(e.getValue() < RUNNING_POLLS - 2, () -> "A polled run " + e.getKey() + " " + e.getValue()
                        + " times before the kill: too late for this test's premise; raise RUNNING_POLLS");
            }
            for (String runId : runIds) {
                assertTrue(!"SUCCESS".equals(port.run(runId).path("status").asText()), "run ended before the kill: " + runId);
            }

            b = TrackingProcessSupport.startAgent(workDir, env);
            final AgentProcess agentB = b;
            for (String runId : runIds) {
                try {
                    port.awaitStatus(runId, "SUCCESS", TIMEOUT);
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + outputOf("B", agentB), e);
                }
            }
            Thread.sleep(500); // nothing more should come; give a stray line the chance to show up

            for (String runId : runIds) {
                assertRunEndedOnce(port, runId);
                // B took over: the pipeline was polled after the kill
                List<Long> gets = pipelineGets(circleci, pipelineId(circleci, runId));
                assertTrue(gets.stream().anyMatch(t -> t > killedAt), () -> "run " + runId + " was not polled after the restart");
            }
            assertTriggeredOnce(circleci, runIds);
            port.assertNoContractViolations();
            circleci.assertNoContractViolations();
            assertTrue(b.process().isAlive(), () -> "agent B died" + outputOf("B", agentB));
        } finally {
            closeQuietly(b);
            closeQuietly(a);
            closeQuietly(circleci);
            closeQuietly(port);
        }
    }
}
