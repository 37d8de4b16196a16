package io.portcamel.agent.drills;

import com.fasterxml.jackson.databind.node.ObjectNode;
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

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drill 2 (issue 4): {@value #RECORDS} fuzzed Kafka records (seeded, reproducible: {@code -Ddrill.seed=N}) into one
 * agent process — mutations of a valid signed run message (truncated JSON, random bytes, wrong types, missing, forged
 * or malformed signatures, 1.1 MiB values, unicode, empty and null records, deep nesting, duplicated records), with a
 * valid run with a unique runId every 10th record.
 *
 * <p>Asserted: the agent stays alive and ready; every valid run ends in Port exactly once and is triggered exactly once;
 * nothing else is triggered; unsigned/forged messages never touch the run they name; the consumer group's committed
 * offset reaches the end of the topic (nothing blocks the partition); the process output never contains
 * PORT_CLIENT_SECRET or the target's token. Reported: the counts per mutation, dead letters (the agent's
 * {@code port_agent_runs_dead_letter_total}) against the number expected, timings.
 */
class FuzzDrillIT {
    static final int RECORDS = 1000;
    static final long SEED = Long.getLong("drill.seed", 4L);
    static final int MAX_HUGE = 8;
    static final Duration BUDGET = Duration.ofSeconds(80);
    /** INFO (the default) unless -Ddrill.logLevel=DEBUG: at DEBUG, HttpClient's wire/headers loggers print secrets (see the report). */
    static final String LOG_LEVEL = System.getProperty("drill.logLevel", "INFO");
    static final String TARGET_TOKEN = "tgt-drill-token-9f8e7d6c5b4a";

    /** What the agent must do with a record. */
    enum Kind {
        VALID, UNICODE_VALID, DUPLICATE, TRUNCATED, RANDOM_BYTES, WRONG_SHAPE, BAD_URL_TYPE, UNSIGNED, FORGED, BAD_HEADERS,
        HUGE, NON_OBJECT, EMPTY, NULL_VALUE, DEEP_NESTING, NOT_FOR_AGENT
    }

    record Rec(int index, Kind kind, String runId, byte[] value) { }

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 89, unit = TimeUnit.SECONDS)
    void fuzzedRecordsNeverBlockLoseOrDuplicateARunNorLeakASecret() throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + BUDGET.toNanos();
        EmbeddedKafka kafka = null;
        FakePort port = null;
        WireMockServer target = null;
        Agent agent = null;
        try {
            kafka = EmbeddedKafka.start(1);
            DrillSupport.createTopics(kafka);
            port = new FakePort(DrillSupport.CLIENT_ID, TestSecrets.CLIENT_SECRET);
            final FakePort p = port;
            TriggerCounter triggers = new TriggerCounter();
            target = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort().extensions(triggers));
            target.start();
            target.stubFor(post(urlPathEqualTo("/fuzz")).atPriority(5).willReturn(aResponse().withStatus(401)));
            target.stubFor(post(urlPathEqualTo("/fuzz")).atPriority(1).withHeader("Authorization", equalTo("Bearer " + TARGET_TOKEN))
                    .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                            .withBody("{\"ok\":true}").withFixedDelay(5)));
            String url = target.baseUrl() + "/fuzz";

            // one mapping: the message to invocationMethod.url, with the target's token (hidden from the logs)
            String mapping = "[{\"enabled\": true, \"url\": \".payload.action.invocationMethod.url\", "
                    + "\"headers\": {\"Authorization\": \"\\\"Bearer \\\" + env.WEBHOOK_TARGET_TOKEN\"}}]";
            Path app = DrillSupport.workDir(tmp, mapping);
            String group = DrillSupport.ORG + ".drill-fuzz";
            Map<String, String> env = DrillSupport.agentEnv(port, kafka, group, "drill-fuzz");
            env.put("WEBHOOK_TARGET_TOKEN", TARGET_TOKEN);
            env.put("DETAILED_LOGGING", "true");
            env.put("LOG_LEVEL", LOG_LEVEL);
            agent = Agent.start("fuzz", app, env);
            agent.awaitReady(Duration.ofSeconds(45));
            long ready = System.nanoTime();

            List<Rec> records = generate(new Random(SEED), url);
            try (KafkaProducer<String, byte[]> producer = DrillSupport.producer(kafka)) {
                for (Rec r : records) {
                    producer.send(new ProducerRecord<>(DrillSupport.RUNS, "k" + r.index(), r.value()));
                }
                producer.flush();
            }
            long produced = System.nanoTime();
            long end = DrillSupport.endOffset(kafka, DrillSupport.RUNS);

            List<String> valid = new ArrayList<>();
            for (Rec r : records) {
                if ((r.kind() == Kind.VALID || r.kind() == Kind.UNICODE_VALID)) {
                    valid.add(r.runId());
                }
            }
            long committed = -1;
            while (System.nanoTime() < deadline) {
                committed = kafka.committedOffset(group, DrillSupport.RUNS, 0);
                if (committed >= end && valid.stream().allMatch(r -> DrillSupport.terminal(p, r))) {
                    break;
                }
                Thread.sleep(250);
            }
            long settled = System.nanoTime();
            Thread.sleep(1000); // a late duplicate trigger or status would show up here
            committed = kafka.committedOffset(group, DrillSupport.RUNS, 0);

            // ------------------------------------------------------------ the counts
            boolean alive = agent.process.isAlive();
            boolean readyAtEnd = alive && agent.ready();
            double deadLetters = agent.metric("port_agent_runs_dead_letter_total");
            List<String> lost = DrillSupport.where(valid, r -> !DrillSupport.terminal(p, r));
            List<String> notSuccess = DrillSupport.where(valid, r -> !"SUCCESS".equals(p.run(r).path("status").asText()));
            List<String> dupTriggers = DrillSupport.where(valid, r -> triggers.count(r) > 1);
            List<String> notTriggered = DrillSupport.where(valid, r -> triggers.count(r) == 0);
            List<String> twoStatuses = DrillSupport.where(valid, r -> DrillSupport.statusPatches(p, r) != 1);
            Map<String, Integer> unexpected = new LinkedHashMap<>();
            triggers.byRunId.forEach((runId, n) -> {
                if (!valid.contains(runId)) {
                    unexpected.put(runId, n.get());
                }
            });
            List<String> touchedNamedRuns = new ArrayList<>();
            Map<Kind, Integer> perKind = new EnumMap<>(Kind.class);
            long expectedDeadLetters = 0;
            for (Rec r : records) {
                perKind.merge(r.kind(), 1, Integer::sum);
                switch (r.kind()) {
                    case VALID, UNICODE_VALID, DUPLICATE, NOT_FOR_AGENT, BAD_URL_TYPE -> { }
                    default -> expectedDeadLetters++;
                }
                if (r.runId() != null && List.of(Kind.UNSIGNED, Kind.FORGED, Kind.BAD_HEADERS, Kind.NOT_FOR_AGENT).contains(r.kind())
                        && (!p.logMessages(r.runId()).isEmpty() || !p.patches(r.runId()).isEmpty())) {
                    touchedNamedRuns.add(r.runId());
                }
            }
            List<String> badUrlNotFailed = new ArrayList<>();
            for (Rec r : records) {
                if (r.kind() == Kind.BAD_URL_TYPE && !"FAILURE".equals(p.run(r.runId()).path("status").asText())) {
                    badUrlNotFailed.add(r.runId());
                }
            }
            String output = agent.output();
            boolean secretLeaked = output.contains(TestSecrets.CLIENT_SECRET);
            boolean tokenLeaked = output.contains(TARGET_TOKEN);
            boolean tokenSent = valid.stream().allMatch(r -> ("Bearer " + TARGET_TOKEN).equals(triggers.authorization.get(r)));

            StringBuilder rep = new StringBuilder();
            rep.append("=== FuzzDrillIT report (seed ").append(SEED).append(", LOG_LEVEL ").append(LOG_LEVEL)
                    .append(", DETAILED_LOGGING true) ===\n");
            rep.append("records ").append(records.size()).append(" per kind ").append(perKind).append('\n');
            rep.append(String.format("timings: agent ready %.1f s, produced %.1f s after ready, settled %.1f s after produced, "
                    + "drill total %.1f s%n", secs(ready - t0), secs(produced - ready), secs(settled - produced), secs(settled - t0)));
            rep.append(String.format("valid runs %d: LOST %d %s, not SUCCESS %d %s, DUPLICATE TRIGGERS %d %s, never triggered %d %s, "
                    + "status PATCHes != 1: %d %s%n", valid.size(), lost.size(), lost, notSuccess.size(), notSuccess,
                    dupTriggers.size(), dupTriggers, notTriggered.size(), notTriggered, twoStatuses.size(), twoStatuses));
            rep.append(String.format("target calls %d; for anything but a valid run: %d %s%n", triggers.total.get(),
                    unexpected.size(), unexpected));
            rep.append(String.format("dead letters (port_agent_runs_dead_letter_total) %.0f, expected %d%n", deadLetters, expectedDeadLetters));
            rep.append(String.format("unsigned/forged/bad-header/not-for-agent runs that Port saw: %d %s; BAD_URL_TYPE runs not FAILURE: %d %s%n",
                    touchedNamedRuns.size(), touchedNamedRuns, badUrlNotFailed.size(), badUrlNotFailed));
            rep.append(String.format("committed offset %d of end %d; agent alive %s, ready %s; token sent on every trigger %s; "
                    + "output %d bytes, contains PORT_CLIENT_SECRET %s, contains target token %s%n", committed, end, alive,
                    readyAtEnd, tokenSent, output.length(), secretLeaked, tokenLeaked));
            leakLines(output, TestSecrets.CLIENT_SECRET, "<PORT_CLIENT_SECRET>").forEach(l -> rep.append("  secret in: ").append(l).append('\n'));
            leakLines(output, TARGET_TOKEN, "<TARGET_TOKEN>").forEach(l -> rep.append("  token in: ").append(l).append('\n'));
            String report = rep.toString();
            DrillSupport.publish("FuzzDrillIT", report);
            DrillSupport.publish("FuzzDrillIT-agent-output", output);

            assertTrue(alive, () -> "the agent died\n" + report);
            assertTrue(readyAtEnd, () -> "the agent is not ready at the end\n" + report);
            assertEquals(end, committed, () -> "the committed offset did not reach the end of the topic\n" + report);
            assertTrue(lost.isEmpty(), () -> "LOST valid runs\n" + report);
            assertTrue(dupTriggers.isEmpty(), () -> "DUPLICATE TRIGGERS\n" + report);
            assertTrue(notTriggered.isEmpty() && notSuccess.isEmpty() && twoStatuses.isEmpty(), () -> "valid runs not handled once\n" + report);
            assertTrue(unexpected.isEmpty(), () -> "the target was called for something else than a valid run\n" + report);
            assertTrue(touchedNamedRuns.isEmpty(), () -> "an unverified message touched the run it names\n" + report);
            assertTrue(badUrlNotFailed.isEmpty(), () -> "signed runs with a non-string URL must end FAILURE\n" + report);
            assertTrue(tokenSent, () -> "the target did not get its token\n" + report);
            assertFalse(secretLeaked, () -> "the output contains PORT_CLIENT_SECRET\n" + report);
            assertFalse(tokenLeaked, () -> "the output contains the target token\n" + report);
            assertEquals(expectedDeadLetters, Math.round(deadLetters), () -> "dead letters\n" + report);
        } catch (Throwable t) {
            if (agent != null) {
                System.out.println(agent.tail(60));
            }
            throw t;
        } finally {
            DrillSupport.closeQuietly(agent);
            if (target != null) {
                target.stop();
            }
            DrillSupport.closeQuietly(port);
            DrillSupport.closeQuietly(kafka);
        }
    }

    // ---------------------------------------------------------------- the records

    static final String[] UNICODE = {"ünïcödé", "日本語のブランチ", "🚀🔥 deploy", "עברית RTL", "e\u0301 combining", "nul\u0000byte",
            "line\u2028sep", "quote\" back\\slash", "\uFEFFbom", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"};

    static List<Rec> generate(Random rnd, String url) {
        List<Rec> out = new ArrayList<>();
        List<byte[]> validBytes = new ArrayList<>();
        int huge = 0;
        for (int i = 0; i < RECORDS; i++) {
            if (i % 10 == 0) {
                String runId = "r_fz_valid_" + i;
                byte[] v = DrillSupport.bytes(DrillSupport.signed(DrillSupport.webhookRun(runId, url, true)));
                validBytes.add(v);
                out.add(new Rec(i, Kind.VALID, runId, v));
                continue;
            }
            Kind kind = Kind.values()[1 + rnd.nextInt(Kind.values().length - 1)];
            if (kind == Kind.HUGE && huge >= MAX_HUGE) {
                kind = Kind.TRUNCATED;
            }
            String runId = "r_fz_" + kind.name().toLowerCase() + "_" + i;
            ObjectNode msg = DrillSupport.webhookRun(runId, url, true);
            byte[] value;
            switch (kind) {
                case DUPLICATE -> {
                    value = validBytes.get(rnd.nextInt(validBytes.size()));
                    runId = null;
                }
                case UNICODE_VALID -> {
                    ObjectNode props = (ObjectNode) msg.at("/payload/properties");
                    for (int k = 0; k < 3; k++) {
                        props.put(UNICODE[rnd.nextInt(UNICODE.length)], UNICODE[rnd.nextInt(UNICODE.length)]);
                    }
                    ((ObjectNode) msg.get("trigger").get("by")).put("userId", UNICODE[rnd.nextInt(UNICODE.length)]);
                    value = DrillSupport.bytes(DrillSupport.signed(msg));
                }
                case TRUNCATED -> {
                    byte[] full = DrillSupport.bytes(DrillSupport.signed(msg));
                    value = java.util.Arrays.copyOf(full, 1 + rnd.nextInt(full.length - 2));
                }
                case RANDOM_BYTES -> {
                    value = new byte[1 + rnd.nextInt(4096)];
                    rnd.nextBytes(value);
                    runId = null;
                }
                case WRONG_SHAPE -> {
                    String field = rnd.nextBoolean() ? "context" : "payload";
                    switch (rnd.nextInt(4)) {
                        case 0 -> msg.putArray(field).add(1).add("x");
                        case 1 -> msg.put(field, "a string");
                        case 2 -> msg.put(field, 42);
                        default -> msg.put(field, true);
                    }
                    value = DrillSupport.bytes(rnd.nextBoolean() ? DrillSupport.signed(msg) : msg);
                    if ("context".equals(field)) {
                        runId = null; // no runId left in the message
                    }
                }
                case BAD_URL_TYPE -> {
                    ((ObjectNode) msg.at("/payload/action/invocationMethod")).putArray("url").add(url);
                    value = DrillSupport.bytes(DrillSupport.signed(msg));
                }
                case UNSIGNED -> value = DrillSupport.bytes(msg);
                case FORGED -> {
                    ObjectNode signed = DrillSupport.signed(msg);
                    ((ObjectNode) signed.at("/payload/properties")).put("branch", "evil");
                    value = DrillSupport.bytes(signed);
                }
                case BAD_HEADERS -> {
                    ObjectNode signed = DrillSupport.signed(msg);
                    switch (rnd.nextInt(4)) {
                        case 0 -> ((ObjectNode) signed.get("headers")).put("X-Port-Signature", 12345);
                        case 1 -> ((ObjectNode) signed.get("headers")).put("X-Port-Timestamp", "yesterday");
                        case 2 -> signed.putArray("headers").add("X-Port-Signature");
                        default -> ((ObjectNode) signed.get("headers")).put("X-Port-Signature", "v1,not-base64!!");
                    }
                    value = DrillSupport.bytes(signed);
                }
                case HUGE -> {
                    huge++;
                    char[] blob = new char[(int) (1.1 * 1024 * 1024)];
                    for (int k = 0; k < blob.length; k++) {
                        blob[k] = (char) ('a' + rnd.nextInt(26));
                    }
                    ((ObjectNode) msg.at("/payload/properties")).put("blob", new String(blob));
                    value = DrillSupport.bytes(DrillSupport.signed(msg));
                }
                case NON_OBJECT -> {
                    String[] v = {"[]", "42", "\"r_fz_str\"", "null", "true", "[{\"context\":{\"runId\":\"" + runId + "\"}}]"};
                    value = v[rnd.nextInt(v.length)].getBytes(StandardCharsets.UTF_8);
                    runId = null;
                }
                case EMPTY -> {
                    value = new byte[0];
                    runId = null;
                }
                case NULL_VALUE -> {
                    value = null;
                    runId = null;
                }
                case DEEP_NESTING -> {
                    StringBuilder sb = new StringBuilder("{\"context\":{\"runId\":\"" + runId + "\"},\"payload\":{\"x\":");
                    sb.append("[".repeat(5000)).append("]".repeat(5000)).append("}}");
                    value = sb.toString().getBytes(StandardCharsets.UTF_8);
                }
                case NOT_FOR_AGENT -> {
                    ((ObjectNode) msg.at("/payload/action/invocationMethod")).put("agent", false);
                    value = DrillSupport.bytes(DrillSupport.signed(msg));
                }
                default -> throw new IllegalStateException(kind.name());
            }
            if (kind == Kind.UNICODE_VALID) {
                validBytes.add(value);
            }
            out.add(new Rec(i, kind, runId, value));
        }
        return out;
    }

    /** Up to 5 distinct lines (by logger) holding the value, the value replaced, cut to 300 characters. */
    static List<String> leakLines(String output, String value, String placeholder) {
        Map<String, String> byLogger = new LinkedHashMap<>();
        output.lines().filter(l -> l.contains(value)).forEach(l -> {
            String[] w = l.split("\\s+", 5);
            byLogger.putIfAbsent(w.length > 3 ? w[2] + " " + w[3] : l.substring(0, Math.min(40, l.length())),
                    l.replace(value, placeholder).substring(0, Math.min(300, l.replace(value, placeholder).length())));
        });
        return byLogger.values().stream().limit(5).toList();
    }

    private static double secs(long nanos) {
        return nanos / 1e9;
    }
}
