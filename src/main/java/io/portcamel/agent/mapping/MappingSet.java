package io.portcamel.agent.mapping;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.thisptr.jackson.jq.Scope;
import net.thisptr.jackson.jq.exception.JsonQueryException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The mapping file (a JSON array, port-agent's "control the payload" format), validated and compiled as a whole.
 * <p>
 * Why everything at load: port-agent compiles jq per call and turns errors into null at run time; we want a typo
 * to stop the agent at start-up (or a reload to be refused) with one line naming file, mapping index (0-based),
 * field path and the jq error, e.g. {@code invocations.json: mapping #2 field "body.parameters": jq compile error: ...}.
 * Unknown keys are kept (see {@link Mapping#raw()}) so extension fields can be read by other components.
 */
public final class MappingSet {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** pydantic's lax bool parsing of {@code enabled: bool | str} (case-insensitive). */
    private static final Set<String> TRUE_STRINGS = Set.of("true", "1", "yes", "on", "t", "y");
    private static final Set<String> FALSE_STRINGS = Set.of("false", "0", "no", "off", "f", "n");

    private final String sourceName;
    private final List<Mapping> mappings;

    private MappingSet(String sourceName, List<Mapping> mappings) {
        this.sourceName = sourceName;
        this.mappings = List.copyOf(mappings);
    }

    public static MappingSet load(Path file, Scope scope) throws MappingException {
        String name = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new MappingException(name + ": file not found (" + file.toAbsolutePath() + ")", e);
        } catch (IOException e) {
            throw new MappingException(name + ": cannot read: " + Mapping.oneLine(e), e);
        }
        return parse(text, name, scope);
    }

    public static MappingSet parse(String json, String sourceName, Scope scope) throws MappingException {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + " column "
                    + e.getLocation().getColumnNr();
            throw new MappingException(sourceName + ": invalid JSON" + where + ": " + Mapping.oneLine(
                    new Exception(e.getOriginalMessage())), e);
        }
        if (root == null || !root.isArray()) {
            throw new MappingException(sourceName + ": must be a JSON array of mappings, got "
                    + (root == null ? "nothing" : JqEnvironment.typeName(root)));
        }
        List<Mapping> list = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            list.add(new Builder(sourceName, i, scope).build(root.get(i)));
        }
        return new MappingSet(sourceName, list);
    }

    public List<Mapping> mappings() {
        return mappings;
    }

    /** File name used in messages. */
    public String sourceName() {
        return sourceName;
    }

    /** The first mapping whose {@code enabled} is true for this message (port-agent: first match wins). */
    public Optional<Mapping> select(JsonNode message) {
        for (Mapping m : mappings) {
            if (m.matches(message)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** Compiles one mapping; every error names file, index and field. */
    private static final class Builder {
        private final String source;
        private final int index;
        private final Scope scope;

        Builder(String source, int index, Scope scope) {
            this.source = source;
            this.index = index;
            this.scope = scope;
        }

        MappingException error(String field, String msg) {
            return new MappingException(source + ": mapping #" + index
                    + (field == null ? "" : " field \"" + field + "\"") + ": " + msg);
        }

        Mapping build(JsonNode node) throws MappingException {
            if (!node.isObject()) {
                throw error(null, "must be an object, got " + JqEnvironment.typeName(node));
            }
            ObjectNode raw = (ObjectNode) node;

            Boolean enabledLiteral = null;
            Mapping.Template.Jq enabledJq = null;
            JsonNode en = raw.get("enabled");
            if (en == null) {
                enabledLiteral = Boolean.TRUE;
            } else if (en.isBoolean()) {
                enabledLiteral = en.booleanValue();
            } else if (en.isIntegralNumber() && (en.intValue() == 0 || en.intValue() == 1)) {
                enabledLiteral = en.intValue() == 1;
            } else if (en.isTextual()) {
                String l = en.textValue().trim().toLowerCase(Locale.ROOT);
                if (TRUE_STRINGS.contains(l)) {
                    enabledLiteral = Boolean.TRUE;
                } else if (FALSE_STRINGS.contains(l)) {
                    enabledLiteral = Boolean.FALSE;
                } else {
                    enabledJq = jq("enabled", en.textValue());
                }
            } else {
                throw error("enabled", "must be a boolean or a jq string, got " + JqEnvironment.typeName(en));
            }

            Mapping.Template url = scalarJq(raw, "url");
            Mapping.Template method = scalarJq(raw, "method");
            Mapping.Template headers = stringMapTemplate(raw, "headers");
            Mapping.Template query = stringMapTemplate(raw, "query");

            Mapping.Template body = null;
            JsonNode b = raw.get("body");
            if (b != null && !b.isNull()) {
                if (b.isTextual()) {
                    body = jq("body", b.textValue());
                } else if (b.isObject()) {
                    body = object("body", (ObjectNode) b);
                } else {
                    throw error("body", "must be an object template or a jq string, got " + JqEnvironment.typeName(b));
                }
            }

            Map<String, Mapping.Template> report = null;
            JsonNode r = raw.get("report");
            if (r != null && !r.isNull()) {
                if (!r.isObject()) {
                    throw error("report", "must be an object, got " + JqEnvironment.typeName(r));
                }
                report = new LinkedHashMap<>();
                for (String f : Mapping.REPORT_FIELDS) {
                    JsonNode v = r.get(f);
                    if (v == null || v.isNull()) {
                        continue; // pydantic exclude_none: the default stays
                    }
                    if (v.isTextual()) {
                        report.put(f, jq("report." + f, v.textValue()));
                    } else if (v.isNumber()) {
                        report.put(f, new Mapping.Template.Lit(v));
                    } else {
                        throw error("report." + f, "must be a jq string, got " + JqEnvironment.typeName(v));
                    }
                }
            }

            List<String> paths = new ArrayList<>();
            JsonNode p = raw.get("fieldsToDecryptPaths");
            if (p != null && !p.isNull()) {
                if (!p.isArray()) {
                    throw error("fieldsToDecryptPaths", "must be an array of strings, got " + JqEnvironment.typeName(p));
                }
                for (int i = 0; i < p.size(); i++) {
                    if (!p.get(i).isTextual()) {
                        throw error("fieldsToDecryptPaths[" + i + "]", "must be a string, got "
                                + JqEnvironment.typeName(p.get(i)));
                    }
                    paths.add(p.get(i).textValue());
                }
            }
            return new Mapping(index, raw, scope, enabledLiteral, enabledJq, url, method, headers, query, body,
                    report, paths, track(raw), entity(raw), bodySignature(raw), allowedHosts(raw));
        }

        /** Our extension: the hosts this mapping's requests may go to ({@code ["circleci.com", "*.example.com"]}). */
        private List<String> allowedHosts(ObjectNode raw) throws MappingException {
            JsonNode a = raw.get("allowedHosts");
            if (a == null || a.isNull()) {
                return List.of();
            }
            if (!a.isArray() || a.isEmpty()) {
                throw error("allowedHosts", "must be a non-empty array of host names, e.g. [\"circleci.com\"]");
            }
            List<String> hosts = new ArrayList<>();
            for (int i = 0; i < a.size(); i++) {
                if (!a.get(i).isTextual() || a.get(i).textValue().isBlank() || a.get(i).textValue().contains("/")) {
                    throw error("allowedHosts[" + i + "]", "must be a host name like circleci.com or *.example.com, got " + a.get(i));
                }
                hosts.add(a.get(i).textValue());
            }
            return List.copyOf(hosts);
        }

        /**
         * Our extension for targets that check an HMAC of the raw body (Azure DevOps incoming webhooks):
         * {@code "bodySignature": {"algorithm": "hmac-sha1-hex", "header": "X-WH-Checksum", "secretEnv": "ADO_WEBHOOK_SECRET"}}.
         */
        private BodySignature bodySignature(ObjectNode raw) throws MappingException {
            JsonNode b = raw.get("bodySignature");
            if (b == null || b.isNull()) {
                return null;
            }
            String algorithm = b.path("algorithm").asText("hmac-sha1-hex");
            if (!BodySignature.ALGORITHMS.contains(algorithm)) {
                throw error("bodySignature.algorithm", "must be one of " + BodySignature.ALGORITHMS + ", got " + b.get("algorithm"));
            }
            String header = b.path("header").asText("");
            String secretEnv = b.path("secretEnv").asText("");
            if (header.isBlank() || secretEnv.isBlank()) {
                throw error("bodySignature", "needs \"header\" (e.g. X-WH-Checksum) and \"secretEnv\" (the variable holding the secret)");
            }
            if (!JqEnvironment.mappingEnv(java.util.Map.of(secretEnv, "x")).containsKey(secretEnv)) {
                throw error("bodySignature.secretEnv", secretEnv + " is one of the agent's own credentials and cannot sign target requests");
            }
            return new BodySignature(algorithm, header, secretEnv);
        }

        /** Our extension: {@code "track": {"type": "circleci", "deadlineSeconds": 7200, "params": {…jq…}}}. */
        private TrackSpec track(ObjectNode raw) throws MappingException {
            JsonNode t = raw.get("track");
            if (t == null || t.isNull()) {
                return null;
            }
            if (!t.isObject()) {
                throw error("track", "must be an object like {\"type\": \"circleci\"}, got " + JqEnvironment.typeName(t));
            }
            String type = t.path("type").asText("");
            if (!TrackSpec.TYPES.contains(type)) {
                throw error("track.type", "must be one of " + TrackSpec.TYPES + ", got " + t.get("type"));
            }
            for (Iterator<String> it = t.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!TrackSpec.FIELDS.contains(f)) {
                    throw error("track." + f, "unknown field (known: " + TrackSpec.FIELDS + ")");
                }
            }
            Long deadline = positive(t, "deadlineSeconds");
            Long interval = positive(t, "pollIntervalSeconds");
            Long maxInterval = positive(t, "maxPollIntervalSeconds");
            JsonNode params = t.get("params");
            Mapping.Template.Obj paramsTemplate;
            if (params == null || params.isNull()) {
                paramsTemplate = new Mapping.Template.Obj(Map.of());
            } else if (params.isObject()) {
                paramsTemplate = object("track.params", (ObjectNode) params);
            } else {
                throw error("track.params", "must be an object of jq strings, got " + JqEnvironment.typeName(params));
            }
            return new TrackSpec(type, deadline, interval, maxInterval, paramsTemplate);
        }

        private Long positive(JsonNode t, String field) throws MappingException {
            JsonNode v = t.get(field);
            if (v == null || v.isNull()) {
                return null;
            }
            if (!v.canConvertToLong() || v.asLong() <= 0) {
                throw error("track." + field, "must be a positive number of seconds, got " + v);
            }
            return v.asLong();
        }

        /** Our extension: an entity to upsert when a run succeeds ({@code blueprint}, {@code identifier}, … as jq). */
        private Mapping.Template.Obj entity(ObjectNode raw) throws MappingException {
            JsonNode e = raw.get("entity");
            if (e == null || e.isNull()) {
                return null;
            }
            if (!e.isObject() || !e.hasNonNull("blueprint") || !e.hasNonNull("identifier")) {
                throw error("entity", "must be an object with at least \"blueprint\" and \"identifier\" (jq strings)");
            }
            return object("entity", (ObjectNode) e);
        }

        private Mapping.Template scalarJq(ObjectNode raw, String field) throws MappingException {
            JsonNode v = raw.get(field);
            if (v == null || v.isNull()) {
                return null;
            }
            if (v.isTextual()) {
                return jq(field, v.textValue());
            }
            throw error(field, "must be a jq string, got " + JqEnvironment.typeName(v));
        }

        /** headers/query: an object of jq strings (numbers pass through) or one jq string returning an object. */
        private Mapping.Template stringMapTemplate(ObjectNode raw, String field) throws MappingException {
            JsonNode v = raw.get(field);
            if (v == null || v.isNull()) {
                return null;
            }
            if (v.isTextual()) {
                return jq(field, v.textValue());
            }
            if (!v.isObject()) {
                throw error(field, "must be an object or a jq string, got " + JqEnvironment.typeName(v));
            }
            Map<String, Mapping.Template> fields = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String path = field + "." + e.getKey();
                JsonNode x = e.getValue();
                if (x.isTextual()) {
                    fields.put(e.getKey(), jq(path, x.textValue()));
                } else if (x.isNumber()) {
                    fields.put(e.getKey(), new Mapping.Template.Lit(x));
                } else {
                    throw error(path, "must be a jq string, got " + JqEnvironment.typeName(x));
                }
            }
            return new Mapping.Template.Obj(fields);
        }

        /** Object template; nested empty objects vanish like in flatten_dict's flatten/unflatten round trip. */
        private Mapping.Template.Obj object(String path, ObjectNode o) throws MappingException {
            Map<String, Mapping.Template> fields = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String p = path + "." + e.getKey();
                JsonNode x = e.getValue();
                if (x.isObject()) {
                    Mapping.Template.Obj nested = object(p, (ObjectNode) x);
                    if (!nested.fields().isEmpty()) {
                        fields.put(e.getKey(), nested);
                    }
                } else {
                    fields.put(e.getKey(), value(p, x));
                }
            }
            return new Mapping.Template.Obj(fields);
        }

        private Mapping.Template value(String path, JsonNode x) throws MappingException {
            if (x.isTextual()) {
                return jq(path, x.textValue());
            }
            if (x.isObject()) {
                return object(path, (ObjectNode) x);
            }
            if (x.isArray()) {
                List<Mapping.Template> items = new ArrayList<>();
                for (int i = 0; i < x.size(); i++) {
                    items.add(value(path + "[" + i + "]", x.get(i)));
                }
                return new Mapping.Template.Arr(items);
            }
            return new Mapping.Template.Lit(x);
        }

        private Mapping.Template.Jq jq(String path, String program) throws MappingException {
            try {
                return new Mapping.Template.Jq(path, program, JqEnvironment.compile(program));
            } catch (JsonQueryException | RuntimeException e) {
                throw error(path, "jq compile error: " + Mapping.oneLine(e));
            } catch (StackOverflowError e) {
                throw error(path, "jq compile error: expression nested too deeply");
            }
        }
    }
}
