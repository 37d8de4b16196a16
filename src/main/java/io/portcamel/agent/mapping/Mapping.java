package io.portcamel.agent.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.security.PythonJson;
import net.thisptr.jackson.jq.JsonQuery;
import net.thisptr.jackson.jq.Scope;
import net.thisptr.jackson.jq.exception.JsonQueryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One entry of the mapping file ("control the payload"), with every jq expression compiled once at load.
 * <p>
 * Rendering follows port-agent v0.8.9 {@code _prepare_payload}: defaults url = {@code invocationMethod.url} else
 * {@code ""}, method = {@code invocationMethod.method} else {@code POST}, headers/query = {@code {}}, body = the
 * whole message; a string is a jq program whose FIRST output is used (none gives null); objects and arrays are
 * recursed and other literals pass through. Empty objects nested in an object template are dropped, because
 * port-agent flattens templates with flatten_dict (flaw 3.8-9) and we promise the same requests.
 * Integral numbers produced by jq are integers, as pyjq converts them.
 * <p>
 * Deliberate difference: a jq runtime error does not silently become null; {@link #render} throws
 * {@link MappingEvaluationException} naming the mapping index, the field path and the jq error.
 * Indexes are 0-based positions in the file's array.
 */
public final class Mapping {

    private static final Logger LOG = LoggerFactory.getLogger(Mapping.class);
    private static final JsonNodeFactory NF = JsonNodeFactory.instance;

    /** Report fields we evaluate: port-agent's four plus our statusLabel extension. */
    static final List<String> REPORT_FIELDS = List.of("status", "link", "summary", "externalRunId", "statusLabel");

    private final int index;
    private final ObjectNode raw;
    private final Scope scope;
    final Boolean enabledLiteral;
    final Template.Jq enabledJq;
    private final Template url;
    private final Template method;
    private final Template headers;
    private final Template query;
    private final Template body;
    private final Map<String, Template> report;
    private final List<String> fieldsToDecryptPaths;
    private final TrackSpec track;
    private final Template entity;
    private final BodySignature bodySignature;
    private final List<String> allowedHosts;

    Mapping(int index, ObjectNode raw, Scope scope, Boolean enabledLiteral, Template.Jq enabledJq, Template url,
            Template method, Template headers, Template query, Template body, Map<String, Template> report,
            List<String> fieldsToDecryptPaths, TrackSpec track, Template entity, BodySignature bodySignature,
            List<String> allowedHosts) {
        this.index = index;
        this.raw = raw;
        this.scope = scope;
        this.enabledLiteral = enabledLiteral;
        this.enabledJq = enabledJq;
        this.url = url;
        this.method = method;
        this.headers = headers;
        this.query = query;
        this.body = body;
        this.report = report;
        this.fieldsToDecryptPaths = List.copyOf(fieldsToDecryptPaths);
        this.track = track;
        this.entity = entity;
        this.bodySignature = bodySignature;
        this.allowedHosts = allowedHosts;
    }

    /** The {@code allowedHosts} extension; empty = only TARGET_ALLOWED_HOSTS (if set) applies. */
    public List<String> allowedHosts() {
        return allowedHosts;
    }

    /** The {@code bodySignature} extension: an HMAC of the exact body bytes in a header. Empty = none. */
    public java.util.Optional<BodySignature> bodySignature() {
        return java.util.Optional.ofNullable(bodySignature);
    }

    /** The mapping's {@code track} extension: follow the triggered pipeline to its end. Empty = port-agent behaviour. */
    public java.util.Optional<TrackSpec> track() {
        return java.util.Optional.ofNullable(track);
    }

    /** {@code track.params} rendered over the message (jq templates, like the body). */
    public ObjectNode renderTrackParams(JsonNode message) throws MappingEvaluationException {
        return track == null ? NF.objectNode() : (ObjectNode) track.params().eval(this, message);
    }

    public boolean hasEntity() {
        return entity != null;
    }

    /**
     * The {@code entity} extension rendered over {@code {body, request, response, facts}}: {@code {blueprint, identifier,
     * title?, properties?, relations?, team?}}, or null when the mapping declares none.
     */
    public ObjectNode renderEntity(JsonNode context) throws MappingEvaluationException {
        return entity == null ? null : (ObjectNode) entity.eval(this, context);
    }

    /** 0-based position in the mapping file. */
    public int index() {
        return index;
    }

    /** The mapping as written, including keys this class does not interpret (extension fields). */
    public ObjectNode raw() {
        return raw;
    }

    public List<String> fieldsToDecryptPaths() {
        return fieldsToDecryptPaths;
    }

    /** Whether the mapping has a {@code report} section. */
    public boolean hasReport() {
        return report != null;
    }

    /**
     * port-agent's {@code _find_mapping} test: literal true, or jq whose first output is exactly boolean true.
     * A jq runtime error means "not matched" (logged at WARN), as in port-agent.
     */
    boolean matches(JsonNode message) {
        if (enabledLiteral != null) {
            return enabledLiteral;
        }
        try {
            JsonNode r = JqEnvironment.first(enabledJq.query(), scope, message);
            return r != null && r.isBoolean() && r.booleanValue();
        } catch (JsonQueryException | RuntimeException e) {
            LOG.warn("mapping #{} field \"enabled\": jq error, mapping skipped: {}", index, oneLine(e));
            return false;
        }
    }

    /** Builds the target request for {@code message} (already decrypted, signature headers removed). */
    public RenderedRequest render(JsonNode message) throws MappingEvaluationException {
        JsonNode im = message.path("payload").path("action").path("invocationMethod");

        String urlValue;
        if (url == null) {
            JsonNode u = im.get("url");
            urlValue = u == null || u.isNull() ? "" : asPlainString(u);
        } else {
            JsonNode u = url.eval(this, message);
            if (u == null || u.isNull()) {
                throw new MappingEvaluationException(index, "url", "evaluated to null; a target URL is required");
            }
            if (!u.isTextual()) {
                throw new MappingEvaluationException(index, "url", "must evaluate to a string, got "
                        + JqEnvironment.typeName(u) + " " + JqEnvironment.toJqJson(u));
            }
            urlValue = u.textValue();
        }

        String methodValue;
        if (method == null) {
            JsonNode m = im.get("method");
            methodValue = m == null || m.isNull() ? "POST" : asPlainString(m);
        } else {
            JsonNode m = method.eval(this, message);
            if (m == null || !m.isTextual()) {
                throw new MappingEvaluationException(index, "method", "must evaluate to a string, got "
                        + (m == null ? "null" : JqEnvironment.toJqJson(m)));
            }
            methodValue = m.textValue();
        }

        Map<String, String> headerValues = stringMap("headers", headers, message);
        Map<String, String> queryValues = stringMap("query", query, message);

        JsonNode bodyValue;
        if (body == null) {
            bodyValue = message;
        } else {
            JsonNode b = body.eval(this, message);
            bodyValue = b == null || b.isNull() ? null : b;
        }
        return new RenderedRequest(methodValue, urlValue, headerValues, queryValues, bodyValue);
    }

    private Map<String, String> stringMap(String field, Template t, JsonNode message)
            throws MappingEvaluationException {
        Map<String, String> out = new LinkedHashMap<>();
        if (t == null) {
            return out;
        }
        JsonNode v = t.eval(this, message);
        if (v == null || v.isNull()) {
            throw new MappingEvaluationException(index, field, "evaluated to null; an object is required");
        }
        if (!v.isObject()) {
            throw new MappingEvaluationException(index, field, "must evaluate to an object, got "
                    + JqEnvironment.typeName(v) + " " + JqEnvironment.toJqJson(v));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode x = e.getValue();
            if (x.isNull()) {
                continue; // requests drops headers and params whose value is None
            }
            if (x.isContainerNode()) {
                throw new MappingEvaluationException(index, field + "." + e.getKey(), "must be a string, number or "
                        + "boolean, got " + JqEnvironment.typeName(x) + " " + JqEnvironment.toJqJson(x));
            }
            out.put(e.getKey(), pythonStr(x));
        }
        return out;
    }

    /**
     * Python's {@code str()} of the value pyjq hands to requests: strings as is, integers as digits, floats as
     * Python repr, booleans {@code True}/{@code False}. That is what requests sends for query parameters; for
     * headers requests rejects non-strings, so we send the same text rather than fail.
     */
    static String pythonStr(JsonNode x) {
        if (x.isTextual()) {
            return x.textValue();
        }
        if (x.isBoolean()) {
            return x.booleanValue() ? "True" : "False";
        }
        if (x.isIntegralNumber()) {
            return x.bigIntegerValue().toString();
        }
        if (x.isNumber()) {
            return PythonJson.floatRepr(x.doubleValue());
        }
        return x.asText();
    }

    private static String asPlainString(JsonNode n) {
        return n.isTextual() ? n.textValue() : JqEnvironment.toJqString(n);
    }

    /**
     * Evaluates the {@code report} fields over {@code {body, request, response}}. Returns only the fields the
     * mapping defines; a field evaluating to null is kept as NullNode so the caller can apply port-agent's
     * "null removes the default" rule. A jq runtime error is logged at WARN and the field is left out, so the
     * default (e.g. FAILURE) survives - port-agent would have turned it into null and erased the default.
     */
    public ObjectNode report(JsonNode reportContext) {
        ObjectNode out = NF.objectNode();
        if (report == null) {
            return out;
        }
        for (Map.Entry<String, Template> e : report.entrySet()) {
            try {
                JsonNode v = e.getValue().eval(this, reportContext);
                out.set(e.getKey(), v == null ? NullNode.getInstance() : v);
            } catch (MappingEvaluationException ex) {
                LOG.warn("{}; the field is not reported", ex.getMessage());
            }
        }
        return out;
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }

    // ------------------------------------------------------------------ templates

    /** A compiled field template. */
    sealed interface Template permits Template.Jq, Template.Lit, Template.Obj, Template.Arr {

        JsonNode eval(Mapping m, JsonNode input) throws MappingEvaluationException;

        record Jq(String path, String source, JsonQuery query) implements Template {
            @Override
            public JsonNode eval(Mapping m, JsonNode input) throws MappingEvaluationException {
                try {
                    JsonNode r = JqEnvironment.first(query, m.scope, input);
                    return r == null ? NullNode.getInstance() : r;
                } catch (JsonQueryException | RuntimeException e) {
                    throw new MappingEvaluationException(m.index, path, "jq error: " + oneLine(e));
                } catch (StackOverflowError e) {
                    throw new MappingEvaluationException(m.index, path, "jq error: recursion too deep");
                }
            }
        }

        record Lit(JsonNode value) implements Template {
            @Override
            public JsonNode eval(Mapping m, JsonNode input) {
                return value;
            }
        }

        record Obj(Map<String, Template> fields) implements Template {
            @Override
            public JsonNode eval(Mapping m, JsonNode input) throws MappingEvaluationException {
                ObjectNode o = NF.objectNode();
                for (Map.Entry<String, Template> e : fields.entrySet()) {
                    o.set(e.getKey(), e.getValue().eval(m, input));
                }
                return o;
            }
        }

        record Arr(List<Template> items) implements Template {
            @Override
            public JsonNode eval(Mapping m, JsonNode input) throws MappingEvaluationException {
                ArrayNode a = NF.arrayNode();
                for (Template t : items) {
                    a.add(t.eval(m, input));
                }
                return a;
            }
        }
    }
}
