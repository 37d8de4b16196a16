package io.portcamel.agent.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;

/**
 * The target request a mapping produced. Header and query maps keep the mapping's order (LinkedHashMap);
 * {@code body == null} means "send no body" (port-agent's {@code json=None}).
 */
public record RenderedRequest(String method, String url, Map<String, String> headers, Map<String, String> query,
                              JsonNode body) {

    /** {@code {method,url,headers,query,body}} - the {@code request} object of the report context. */
    public ObjectNode toJson() {
        JsonNodeFactory nf = JsonNodeFactory.instance;
        ObjectNode o = nf.objectNode();
        o.put("method", method);
        o.put("url", url);
        ObjectNode h = o.putObject("headers");
        headers.forEach(h::put);
        ObjectNode q = o.putObject("query");
        query.forEach(q::put);
        o.set("body", body == null ? NullNode.getInstance() : body);
        return o;
    }
}
