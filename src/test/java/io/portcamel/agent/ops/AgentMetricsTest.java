package io.portcamel.agent.ops;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.portcamel.agent.port.PortApiException;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TargetTracker;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.TrackingException;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.apache.camel.component.kafka.consumer.support.subcription.TopicInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent's metric names and tags as Prometheus shows them; the tracker timer; the Kafka partition listener. */
class AgentMetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AgentMetrics metrics = new AgentMetrics(registry);

    @Test
    void runCountersAreTaggedByMappingAndTargetType() {
        metrics.received("kafka");
        metrics.received("kafka");
        metrics.triggered(0, "circleci");
        metrics.ended(true, 0, "circleci");
        metrics.ended(false, 1, "azure-devops-webhook");
        metrics.ended(false, 2, "workorder");
        metrics.ended(true, 4, null);
        String text = registry.scrape();
        OpsEndpointsTest.assertMetric(text, "port_agent_runs_received_total{ingress=\"kafka\"}", 2);
        OpsEndpointsTest.assertMetric(text, "port_agent_runs_triggered_total{mapping=\"0\",target=\"circleci\"}", 1);
        OpsEndpointsTest.assertMetric(text, "port_agent_runs_succeeded_total{mapping=\"0\",target=\"circleci\"}", 1);
        // both Azure DevOps trackers are one target type
        OpsEndpointsTest.assertMetric(text, "port_agent_runs_failed_total{mapping=\"1\",target=\"azure-devops\"}", 1);
        OpsEndpointsTest.assertMetric(text, "port_agent_runs_failed_total{mapping=\"2\",target=\"workorder\"}", 1);
        OpsEndpointsTest.assertMetric(text, "port_agent_runs_succeeded_total{mapping=\"4\",target=\"webhook\"}", 1);
        OpsEndpointsTest.assertMetric(text, "port_agent_runs_dead_letter_total", 0);
    }

    @Test
    void portErrorsAreTaggedByStatusClass() {
        PortApiException e = new PortApiException("Port answered 503", 503, null);
        assertSame(e, metrics.portError(e), "returned for `throw metrics.portError(…)`");
        metrics.portError(new PortApiException("Port answered 401", 401, null));
        metrics.portError(new PortApiException("unreachable", -1, new IOException("reset")));
        metrics.portError(new IllegalStateException("boom"));
        metrics.portRetry();
        String text = registry.scrape();
        OpsEndpointsTest.assertMetric(text, "port_agent_port_errors_total{status=\"5xx\"}", 1);
        OpsEndpointsTest.assertMetric(text, "port_agent_port_errors_total{status=\"401\"}", 1);
        OpsEndpointsTest.assertMetric(text, "port_agent_port_errors_total{status=\"io\"}", 1);
        OpsEndpointsTest.assertMetric(text, "port_agent_port_errors_total{status=\"other\"}", 1);
        OpsEndpointsTest.assertMetric(text, "port_agent_port_retries_total{reason=\"token-refresh\"}", 1);
    }

    @Test
    void trackerPollsAreTimedWithTheirOutcome() throws Exception {
        List<Object> answers = new ArrayList<>(List.of(
                new PollResult(JsonNodeFactory.instance.objectNode(), List.of(), null, null, null, null, null, false),
                new TrackingException("503", true),
                new TrackingException("401", false)));
        TargetTracker scripted = new TargetTracker() {
            @Override
            public String type() {
                return "circleci";
            }

            @Override
            public ObjectNode start(TrackStart trigger) {
                return JsonNodeFactory.instance.objectNode();
            }

            @Override
            public PollResult poll(ObjectNode state, Map<String, String> auth, TargetHttp http) throws TrackingException {
                Object next = answers.remove(0);
                if (next instanceof TrackingException e) {
                    throw e;
                }
                return (PollResult) next;
            }
        };
        TargetTracker timed = TimedTracker.all(List.of(scripted), metrics).get(0);
        assertEquals("circleci", timed.type());
        timed.poll(null, Map.of(), null);
        assertThrows(TrackingException.class, () -> timed.poll(null, Map.of(), null));
        assertThrows(TrackingException.class, () -> timed.poll(null, Map.of(), null));
        String text = registry.scrape();
        for (String outcome : List.of("ok", "retry", "error")) {
            OpsEndpointsTest.assertMetric(text, "port_agent_tracking_poll_seconds_count{outcome=\"" + outcome + "\",target=\"circleci\"}", 1);
        }
    }

    @Test
    void trackingGaugeReadsTheCachedCount() {
        metrics.trackingGauge(() -> 7);
        OpsEndpointsTest.assertMetric(registry.scrape(), "port_agent_runs_tracking", 7);
    }

    @Test
    void kafkaAssignmentsFollowRebalancesAndStillTellCamel() {
        KafkaAssignments assignments = new KafkaAssignments(Clock.systemUTC());
        List<String> camelSaw = new ArrayList<>();
        ConsumerRebalanceListener camel = new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> p) {
                camelSaw.add("revoked " + p);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> p) {
                camelSaw.add("assigned " + p);
            }
        };
        ListenerCapturingConsumer consumer = new ListenerCapturingConsumer();
        assignments.subscribe(consumer, camel, new TopicInfo(null, "org.runs,org.change.log"));
        assertEquals(Set.of("org.runs", "org.change.log"), consumer.subscription());
        assertTrue(assignments.subscribed());
        assertEquals(Set.of(), assignments.assigned());

        TopicPartition runs0 = new TopicPartition("org.runs", 0);
        TopicPartition log0 = new TopicPartition("org.change.log", 0);
        consumer.listener.onPartitionsAssigned(List.of(runs0, log0));
        assertEquals(Set.of("org.change.log-0", "org.runs-0"), assignments.assigned());
        consumer.listener.onPartitionsRevoked(List.of(runs0));
        assertEquals(Set.of("org.change.log-0"), assignments.assigned());
        consumer.listener.onPartitionsLost(List.of(log0));
        assertEquals(Set.of(), assignments.assigned());
        assertEquals(List.of("assigned [org.runs-0, org.change.log-0]", "revoked [org.runs-0]", "revoked [org.change.log-0]"),
                camelSaw, "Camel's own listener gets every call (lost = revoked by default)");
        assertTrue(assignments.lastRebalance() != null);
    }

    /** Kafka's MockConsumer, keeping the rebalance listener the adapter subscribed with. */
    static final class ListenerCapturingConsumer extends MockConsumer<Object, Object> {
        ConsumerRebalanceListener listener;

        ListenerCapturingConsumer() {
            super(OffsetResetStrategy.EARLIEST);
        }

        @Override
        public synchronized void subscribe(Collection<String> topics, ConsumerRebalanceListener l) {
            super.subscribe(topics, l);
            this.listener = l;
        }
    }

    @Test
    void noneCountsNothingAndNeedsNoContext() {
        AgentMetrics.NONE.received("kafka");
        AgentMetrics.NONE.pollLatency(Duration.ofMillis(5));
        assertSame(AgentMetrics.NONE, AgentMetrics.of((org.apache.camel.CamelContext) null));
    }
}
