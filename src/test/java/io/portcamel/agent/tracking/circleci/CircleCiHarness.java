package io.portcamel.agent.tracking.circleci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.testsupport.FakeCircleCi;
import io.portcamel.agent.tracking.JdkTargetHttp;
import io.portcamel.agent.tracking.PollResult;
import io.portcamel.agent.tracking.TargetHttp;
import io.portcamel.agent.tracking.TrackStart;
import io.portcamel.agent.tracking.TrackingException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Triggers a pipeline on the fake the way the agent does and keeps the tracker's state between polls, like the store. */
final class CircleCiHarness {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String TOKEN = "cci-token";

    /** A clock a test moves by hand (the no-workflow grace period). */
    static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2025-01-01T10:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    final FakeCircleCi circle;
    final MutableClock clock = new MutableClock();
    final CircleCiTracker tracker = new CircleCiTracker(clock);
    final TargetHttp http = new JdkTargetHttp();
    final List<String> allLines = new ArrayList<>();
    Map<String, String> authHeaders;
    ObjectNode state;
    JsonNode response;

    CircleCiHarness(FakeCircleCi circle) {
        this.circle = circle;
    }

    /** POSTs the classic trigger for gh/acme/api and starts tracking it. */
    CircleCiHarness trigger(ObjectNode params) throws Exception {
        return trigger("/project/gh%2Facme%2Fapi/pipeline", "{\"branch\":\"main\",\"parameters\":{\"env\":\"prod\"}}", params);
    }

    CircleCiHarness trigger(String path, String body, ObjectNode params) throws Exception {
        String url = circle.baseUrl() + path;
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Circle-Token", TOKEN);
        headers.put("Content-Type", "application/json");
        TargetHttp.Response r = http.post(url, Map.of("Circle-Token", TOKEN), JSON.readTree(body));
        assertEquals(201, r.status(), r.body());
        response = r.json();
        ObjectNode request = JSON.createObjectNode().put("method", "POST").put("url", url);
        ObjectNode h = request.putObject("headers");
        headers.forEach(h::put);
        request.set("body", JSON.readTree(body));
        authHeaders = headers; // as the tracking service hands them over: every request header but a few
        state = tracker.start(new TrackStart(JSON.createObjectNode(), request, authHeaders, 201, response,
                params == null ? JSON.createObjectNode() : params));
        return this;
    }

    String pipelineId() {
        return response.get("id").asText();
    }

    /** One poll; the state is kept only when it succeeded, as the tracking service does. */
    PollResult poll() throws TrackingException {
        PollResult r = tracker.poll(state, authHeaders, http);
        state = r.state();
        allLines.addAll(r.newLogLines());
        return r;
    }
}
