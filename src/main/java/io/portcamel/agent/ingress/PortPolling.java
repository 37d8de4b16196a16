package io.portcamel.agent.ingress;

import com.fasterxml.jackson.databind.JsonNode;

import io.portcamel.agent.config.AgentSettings;
import io.portcamel.agent.port.PortApi;
import io.portcamel.agent.port.PortApiException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * STREAMER_NAME=POLLING, as port-agent does it: claim pending runs every POLLING_INTERVAL_SECONDS, poll again at
 * once when a full batch came back, back off exponentially (with jitter) after errors, and give up — stopping the
 * process — after failing for POLLING_MAX_FAILURE_DURATION_SECONDS. The timer ticks every second; this bean
 * decides whether a claim is due.
 */
public class PortPolling {
    private static final Logger LOG = LoggerFactory.getLogger(PortPolling.class);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private final PortApi port;
    private final AgentSettings settings;
    private final Clock clock;
    private final Runnable giveUp;
    private Instant nextClaim = Instant.EPOCH;
    private Instant failingSince;
    private double backoffSeconds;
    private volatile Instant lastSuccess;

    public PortPolling(PortApi port, AgentSettings settings, Clock clock, Runnable giveUp) {
        this.port = port;
        this.settings = settings;
        this.clock = clock;
        this.giveUp = giveUp;
        this.backoffSeconds = settings.pollingInitialBackoffSeconds();
    }

    /** Claimed runs as JSON text (one per run), or an empty list when no claim is due. */
    public synchronized List<String> claimIfDue() {
        Instant now = clock.instant();
        if (now.isBefore(nextClaim)) {
            return List.of();
        }
        try {
            List<String> runs = new ArrayList<>();
            for (JsonNode run : port.claimPendingRuns(settings.pollingBatchSize())) {
                runs.add(run.toString());
            }
            failingSince = null;
            backoffSeconds = settings.pollingInitialBackoffSeconds();
            lastSuccess = now;
            boolean full = runs.size() >= settings.pollingBatchSize();
            nextClaim = full ? now : now.plusSeconds(settings.pollingIntervalSeconds());
            if (!runs.isEmpty()) {
                LOG.info("claimed {} pending run(s) from Port{}", runs.size(), full ? " (full batch, claiming again at once)" : "");
            }
            return runs;
        } catch (PortApiException e) {
            if (failingSince == null) {
                failingSince = now;
            }
            long failingFor = Duration.between(failingSince, now).toSeconds();
            if (failingFor >= settings.pollingMaxFailureDurationSeconds()) {
                LOG.error("claiming runs from Port has failed for {} s (POLLING_MAX_FAILURE_DURATION_SECONDS={}); stopping: {}",
                        failingFor, settings.pollingMaxFailureDurationSeconds(), e.getMessage());
                giveUp.run();
                return List.of();
            }
            double jitter = backoffSeconds * settings.pollingBackoffJitterFactor() * ThreadLocalRandom.current().nextDouble(-1, 1);
            long delayMs = Math.round((backoffSeconds + jitter) * 1000);
            nextClaim = now.plusMillis(Math.max(delayMs, 0));
            LOG.warn("claiming runs from Port failed, next try in {} ms: {}", delayMs, e.getMessage());
            backoffSeconds = Math.min(backoffSeconds * settings.pollingBackoffFactor(), settings.pollingMaxBackoffSeconds());
            return List.of();
        }
    }

    /** port-agent acks each run before processing it, so Port does not hand it to another agent. */
    public void ackClaimed(String claimedRunJson) throws java.io.IOException {
        String runId = JSON.readTree(claimedRunJson).path("id").asText("");
        if (!runId.isEmpty()) {
            port.ackRuns(List.of(runId));
        }
    }

    public Instant lastSuccess() {
        return lastSuccess;
    }
}
