package io.portcamel.agent.tracking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Map;

/**
 * The HTTP a tracker needs to follow a pipeline. In the agent it goes through camel-http
 * (routes/tracking.camel.yaml); in unit tests any implementation will do.
 */
public interface TargetHttp {

    /** A response of any status (trackers decide what a 401 or a 404 means); IOExceptions are thrown. */
    record Response(int status, String body, Map<String, String> headers) {
        private static final ObjectMapper JSON = new ObjectMapper();

        public boolean ok() {
            return status >= 200 && status < 300;
        }

        /** The body as JSON, or null when it is empty or not JSON (e.g. Azure's HTML sign-in page). */
        public JsonNode json() {
            if (body == null || body.isBlank()) {
                return null;
            }
            try {
                return JSON.readTree(body);
            } catch (Exception e) {
                return null;
            }
        }
    }

    Response get(String url, Map<String, String> headers) throws Exception;

    /** body may be null (no body). */
    Response post(String url, Map<String, String> headers, JsonNode body) throws Exception;
}
