package io.portcamel.agent.tracking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;

/**
 * Everything a tracker may use to start following a pipeline it did not trigger itself: the Port message, the trigger
 * request exactly as sent (url, method, headers incl. auth, query, body), the target's answer, and the mapping's
 * {@code track.params} rendered with jq over the message.
 *
 * @param message      the Port run message (decrypted)
 * @param request      {method, url, headers{}, query{}, body}
 * @param authHeaders  the request headers a follow-up call needs (Circle-Token, Authorization, …): stored encrypted
 * @param statusCode   the trigger's HTTP status
 * @param response     the trigger's response body as JSON (null if none / not JSON)
 * @param params       rendered {@code track.params} (empty object when absent)
 */
public record TrackStart(JsonNode message, ObjectNode request, Map<String, String> authHeaders, int statusCode,
                         JsonNode response, ObjectNode params) {
}
