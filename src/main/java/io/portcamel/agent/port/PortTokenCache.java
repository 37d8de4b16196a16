package io.portcamel.agent.port;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.camel.ProducerTemplate;

import java.time.Clock;
import java.time.Instant;

/**
 * One cached Port access token for the whole agent. Port keeps one active token per credential set for 3 hours
 * (port-agent asks for a new one before every call); we refresh it 5 minutes before it expires, or at once
 * when Port answers 401 ({@link #invalidate()}).
 */
public class PortTokenCache {
    private static final long REFRESH_MARGIN_SECONDS = 300;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ProducerTemplate template;
    private final String clientId;
    private final String clientSecret;
    private final Clock clock;
    private String token;
    private Instant refreshAt = Instant.EPOCH;
    private long tokensFetched;

    public PortTokenCache(ProducerTemplate template, String clientId, String clientSecret, Clock clock) {
        this.template = template;
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.clock = clock;
    }

    /** The value of the Authorization header for Port calls. */
    public synchronized String authorization() {
        if (token == null || !clock.instant().isBefore(refreshAt)) {
            fetch();
        }
        return "Bearer " + token;
    }

    public synchronized void invalidate() {
        io.portcamel.agent.ops.AgentMetrics.of(template.getCamelContext()).portRetry(); // the port-api route retries once after this
        token = null;
    }

    /**
     * A call signed with {@code rejected} got 401: drop that token, unless another call already replaced it (calls
     * run in parallel, and a burst of 401s for one expired token must fetch one new token, not one each).
     */
    public synchronized String renew(String rejected) {
        if (token == null || rejected == null || rejected.equals("Bearer " + token)) {
            invalidate();
        }
        return authorization();
    }

    public synchronized long tokensFetched() {
        return tokensFetched;
    }

    private void fetch() {
        ObjectNode credentials = JSON.createObjectNode().put("clientId", clientId).put("clientSecret", clientSecret);
        String response;
        try {
            response = template.requestBody("direct:port-token", credentials.toString(), String.class);
        } catch (RuntimeException e) {
            throw PortApi.translate("POST /v1/auth/access_token", e);
        }
        try {
            JsonNode json = JSON.readTree(response);
            String value = json.path("accessToken").asText("");
            if (value.isEmpty()) {
                throw new PortApiException("Port's token response has no accessToken", 200, null);
            }
            long expiresIn = json.path("expiresIn").asLong(10800);
            token = value;
            refreshAt = clock.instant().plusSeconds(Math.max(expiresIn - REFRESH_MARGIN_SECONDS, expiresIn / 2));
            tokensFetched++;
        } catch (java.io.IOException e) {
            throw new PortApiException("Port's token response is not JSON", 200, e);
        }
    }
}
