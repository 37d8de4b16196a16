package io.portcamel.agent.mapping;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.Iterator;
import java.util.Map;

/**
 * The run PATCH body after the target call, as port-agent's {@code _prepare_report} computes it (REFERENCE 3.4):
 * defaults first (synchronized 2xx gives SUCCESS; any non-2xx gives FAILURE with the standard summary), then the
 * mapping's {@code report} fields evaluated over {@code {body, request, response}} override them, then
 * null-valued fields are removed. An empty result means "nothing to PATCH".
 */
public final class ReportBuilder {

    private static final JsonNodeFactory NF = JsonNodeFactory.instance;
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ReportBuilder() {
    }

    public static ObjectNode build(Mapping mapping, JsonNode message, ObjectNode requestAsSent, int statusCode,
                                   Map<String, String> responseHeaders, String responseText,
                                   boolean synchronizedRun, boolean detailedLogging) {
        boolean ok = statusCode >= 200 && statusCode < 300;
        ObjectNode report = NF.objectNode();
        report.set("status", ok ? (synchronizedRun ? TextNode.valueOf("SUCCESS") : NullNode.getInstance())
                : TextNode.valueOf("FAILURE"));
        report.set("link", NullNode.getInstance());
        report.set("summary", ok ? NullNode.getInstance() : TextNode.valueOf(
                "Failed to invoke the webhook with status code: " + statusCode + "."
                        + (detailedLogging ? " Response: " + (responseText == null ? "" : responseText) : "")));
        report.set("externalRunId", NullNode.getInstance());
        report.set("statusLabel", NullNode.getInstance());

        if (mapping != null && mapping.hasReport()) {
            ObjectNode ctx = context(message, requestAsSent, statusCode, responseHeaders, responseText);
            report.setAll(mapping.report(ctx));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = report.fields(); it.hasNext(); ) {
            if (it.next().getValue().isNull()) {
                it.remove();
            }
        }
        return report;
    }

    /** The jq input of report fields: {@code {body, request, response:{statusCode,headers,text,json}}}. */
    public static ObjectNode context(JsonNode message, ObjectNode requestAsSent, int statusCode,
                                     Map<String, String> responseHeaders, String responseText) {
        ObjectNode ctx = NF.objectNode();
        ctx.set("body", message == null ? NullNode.getInstance() : message);
        ctx.set("request", requestAsSent == null ? NullNode.getInstance() : requestAsSent);
        ObjectNode resp = ctx.putObject("response");
        resp.put("statusCode", statusCode);
        ObjectNode h = resp.putObject("headers");
        if (responseHeaders != null) {
            responseHeaders.forEach(h::put);
        }
        resp.put("text", responseText == null ? "" : responseText);
        resp.set("json", parseOrNull(responseText));
        return ctx;
    }

    static JsonNode parseOrNull(String text) {
        if (text == null || text.isBlank()) {
            return NullNode.getInstance();
        }
        try {
            JsonNode n = MAPPER.readTree(text);
            return n == null ? NullNode.getInstance() : n;
        } catch (Exception e) {
            return NullNode.getInstance();
        }
    }
}
