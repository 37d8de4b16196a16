package io.portcamel.agent.tracking;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;

import java.util.LinkedHashMap;
import java.util.Map;

/** Trackers' HTTP through camel-http: the {@code tracker-http} route of routes/tracking.camel.yaml. */
public class CamelTargetHttp implements TargetHttp {
    private final ProducerTemplate template;

    public CamelTargetHttp(ProducerTemplate template) {
        this.template = template;
    }

    @Override
    public Response get(String url, Map<String, String> headers) throws Exception {
        return call("GET", url, headers, null);
    }

    @Override
    public Response post(String url, Map<String, String> headers, JsonNode body) throws Exception {
        return call("POST", url, headers, body);
    }

    private Response call(String method, String url, Map<String, String> headers, JsonNode body) throws Exception {
        Exchange ex = template.request("direct:tracker-http", e -> {
            var m = e.getMessage();
            headers.forEach(m::setHeader);
            if (body != null) {
                m.setHeader("Content-Type", "application/json");
                m.setBody(body.toString());
            }
            // the enum camel-http wants (from a String, Camel searched its converter registry on every call)
            m.setHeader(Exchange.HTTP_METHOD, io.portcamel.agent.targets.TargetCall.httpMethod(method));
            m.setHeader(Exchange.HTTP_URI, url);
        });
        if (ex.getException() != null) {
            throw ex.getException();
        }
        var m = ex.getMessage();
        Map<String, String> responseHeaders = new LinkedHashMap<>();
        m.getHeaders().forEach((k, v) -> {
            if (!k.startsWith("Camel") && v != null) {
                responseHeaders.put(k, v.toString());
            }
        });
        return new Response(m.getHeader(Exchange.HTTP_RESPONSE_CODE, -1, Integer.class), m.getBody(String.class), responseHeaders);
    }
}
