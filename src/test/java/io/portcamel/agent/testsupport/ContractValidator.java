package io.portcamel.agent.testsupport;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.report.LevelResolver;
import com.atlassian.oai.validator.report.ValidationReport;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.http.HttpHeader;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks that a request the agent sent is one the real API accepts, using the vendor's own
 * OpenAPI 3 / Swagger 2 document. Fakes answer whatever we program them to; this is what keeps
 * them honest about the request side of the contract.
 *
 * <p>Only requests are validated (responses are written by us). Paths are matched raw (not
 * percent-decoded) so an encoded {@code %2F} in a path parameter stays one segment, as on the wire.
 * The spec's server path (e.g. {@code /api/v2} of {@code https://circleci.com/api/v2}) is the base
 * path requests are expected to carry; a fake mounted under an extra prefix can strip it with
 * {@link #withMountPrefix(String)}.
 */
public final class ContractValidator {

    static {
        // it logs at INFO/WARN per request for schemes it cannot check (e.g. ADO's oauth2)
        String key = "org.slf4j.simpleLogger.log.com.atlassian.oai.validator.interaction.request.SecurityValidator";
        if (System.getProperty(key) == null) {
            System.setProperty(key, "error");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, OpenApiInteractionValidator> CACHE = new ConcurrentHashMap<>();

    private final String specPath;
    private final OpenApiInteractionValidator validator;
    private final String mountPrefix;

    private ContractValidator(String specPath, OpenApiInteractionValidator validator, String mountPrefix) {
        this.specPath = specPath;
        this.validator = validator;
        this.mountPrefix = mountPrefix;
    }

    /** Loads a spec (OpenAPI 3.x or Swagger 2.0, UTF-8 BOM tolerated) from the test classpath; parsed specs are cached per JVM. */
    public static ContractValidator fromClasspath(String specPath) {
        return fromClasspath(specPath, null);
    }

    /**
     * Like {@link #fromClasspath(String)} but with an explicit base path instead of the one taken from
     * the spec's servers/basePath (use "/" when requests carry no base path at all).
     */
    public static ContractValidator fromClasspath(String specPath, String basePathOverride) {
        String key = specPath + "|" + basePathOverride;
        OpenApiInteractionValidator v = CACHE.computeIfAbsent(key, k -> build(specPath, basePathOverride));
        return new ContractValidator(specPath, v, "");
    }

    /** A copy that strips {@code prefix} (e.g. "/circleci") from request paths before matching them. */
    public ContractValidator withMountPrefix(String prefix) {
        String p = prefix == null ? "" : prefix.replaceAll("/+$", "");
        return new ContractValidator(specPath, validator, p);
    }

    public String specPath() {
        return specPath;
    }

    /** Violations of one request recorded by WireMock, e.g. {@code "PATCH /v1/actions/runs/r_1: [validation.request.body.schema.enum] ..."}. */
    public List<String> validate(LoggedRequest request) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (HttpHeader h : request.getHeaders().all()) {
            headers.put(h.key(), h.values());
        }
        return validate(request.getMethod().getName(), request.getUrl(), headers, request.getBodyAsString());
    }

    /**
     * Violations of a request given by parts. {@code pathAndQuery} is the raw request target
     * (e.g. {@code /api/v2/project/gh%2Fo%2Fr/pipeline?x=1}); an empty list means the request conforms.
     */
    public List<String> validate(String method, String pathAndQuery, Map<String, List<String>> headers, String body) {
        String path = pathAndQuery;
        String query = null;
        int q = pathAndQuery.indexOf('?');
        if (q >= 0) {
            path = pathAndQuery.substring(0, q);
            query = pathAndQuery.substring(q + 1);
        }
        if (!mountPrefix.isEmpty() && path.startsWith(mountPrefix)) {
            path = path.substring(mountPrefix.length());
            if (path.isEmpty()) {
                path = "/";
            }
        }
        SimpleRequest.Builder b = new SimpleRequest.Builder(method.toUpperCase(), path);
        if (headers != null) {
            headers.forEach((name, values) -> b.withHeader(name, values));
        }
        parseQuery(query).forEach(b::withQueryParam);
        if (body != null && !body.isEmpty()) {
            b.withBody(body);
        }
        ValidationReport report = validator.validateRequest(b.build());
        List<String> out = new ArrayList<>();
        for (ValidationReport.Message m : report.getMessages()) {
            if (m.getLevel() == ValidationReport.Level.ERROR) {
                out.add(method.toUpperCase() + " " + pathAndQuery + ": [" + m.getKey() + "] " + m.getMessage()
                        + (m.getNestedMessages().isEmpty() ? "" : " " + m.getNestedMessages().stream()
                        .map(ValidationReport.Message::getMessage).toList()));
            }
        }
        return out;
    }

    private static Map<String, List<String>> parseQuery(String query) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return params;
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    private static OpenApiInteractionValidator build(String specPath, String basePathOverride) {
        String spec = normalise(readClasspath(specPath));
        // responses are produced by our fakes, so only the request half of the contract is checked
        LevelResolver levels = LevelResolver.create()
                .withLevel("validation.response", ValidationReport.Level.IGNORE)
                .build();
        OpenApiInteractionValidator.Builder b = OpenApiInteractionValidator.createForInlineApiSpecification(spec)
                .withLevelResolver(levels);
        if (basePathOverride != null) {
            b.withBasePathOverride(basePathOverride);
        }
        return b.build();
    }

    /**
     * Adapts an OpenAPI 3 document to what the validator handles correctly (found against Port's 3.1 extract):
     * <ul>
     *   <li>3.1 → 3.0: its 3.1 model treats {@code type: string} parameters as JSON and string/array
     *       {@code oneOf}s as ambiguous, so {@code type: [t, "null"]} becomes {@code type: t, nullable: true}
     *       (several non-null types: no type) and a scalar {@code const} a one-value {@code enum};</li>
     *   <li>{@code propertyNames} (rejected by the 3.0 parser) and redundant {@code additionalProperties: true}
     *       (it breaks nested {@code oneOf} checks) are dropped;</li>
     *   <li>{@code \p{L}} in patterns (no Unicode classes in its ECMA-262 engine) becomes a letter range;</li>
     *   <li>undefined {@code bearer} security schemes are defined, see {@link #defineMissingBearerSchemes}.</li>
     * </ul>
     */
    static String normalise(String spec) {
        try {
            JsonNode root = JSON.readTree(spec);
            if (!(root instanceof ObjectNode obj) || !root.path("openapi").asText().startsWith("3.")) {
                return spec;
            }
            if (root.path("openapi").asText().startsWith("3.1")) {
                obj.put("openapi", "3.0.3");
                downgradeSchemas(obj);
            }
            defineMissingBearerSchemes(obj);
            return JSON.writeValueAsString(obj);
        } catch (IOException e) {
            return spec; // not JSON (YAML): let the parser deal with it as is
        }
    }

    /**
     * Port's extract references a {@code bearer} security scheme it never defines; the validator then
     * skips the check (and warns per request). Defining it as HTTP bearer makes a missing
     * {@code Authorization} header a violation, which is what Port enforces.
     */
    private static void defineMissingBearerSchemes(ObjectNode root) {
        ObjectNode schemes = root.withObjectProperty("components").withObjectProperty("securitySchemes");
        List<JsonNode> requirements = new ArrayList<>();
        root.path("security").forEach(requirements::add);
        root.path("paths").forEach(item -> item.forEach(op -> op.path("security").forEach(requirements::add)));
        for (JsonNode requirement : requirements) {
            requirement.fieldNames().forEachRemaining(name -> {
                if (!schemes.has(name) && name.toLowerCase().contains("bearer")) {
                    schemes.putObject(name).put("type", "http").put("scheme", "bearer");
                }
            });
        }
        if (schemes.isEmpty()) {
            ((ObjectNode) root.get("components")).remove("securitySchemes");
        }
    }

    private static void downgradeSchemas(JsonNode node) {
        if (node instanceof ObjectNode o) {
            JsonNode type = o.get("type");
            if (type != null && type.isArray()) {
                List<String> types = new ArrayList<>();
                type.forEach(t -> types.add(t.asText()));
                boolean nullable = types.remove("null");
                if (types.size() == 1) {
                    o.put("type", types.get(0));
                } else {
                    o.remove("type");
                }
                if (nullable) {
                    o.put("nullable", true);
                }
            }
            JsonNode constant = o.get("const");
            if (constant != null && !constant.isObject()) { // an object here is a property named "const"
                o.remove("const");
                o.putArray("enum").add(constant);
            }
            JsonNode pattern = o.get("pattern");
            if (pattern != null && pattern.isTextual() && pattern.asText().contains("\\p{L}")) {
                // the validator's ECMA-262 regex engine has no Unicode classes: approximate "any letter"
                o.put("pattern", pattern.asText().replace("\\p{L}", "a-zA-Z\\u00AA-\\uFFFF"));
            }
            if (o.path("additionalProperties").isBoolean() && o.get("additionalProperties").asBoolean()) {
                // the default anyway; left in, the validator mis-applies nested oneOf branches (string vs $ref)
                o.remove("additionalProperties");
            }
            if (o.path("propertyNames").isObject()) {
                o.remove("propertyNames"); // not in 3.0 (nor draft 4), and the 3.0 parser rejects it
            }
            o.elements().forEachRemaining(ContractValidator::downgradeSchemas);
        } else if (node instanceof ArrayNode a) {
            a.elements().forEachRemaining(ContractValidator::downgradeSchemas);
        }
    }

    private static String readClasspath(String specPath) {
        String resource = specPath.startsWith("/") ? specPath.substring(1) : specPath;
        ClassLoader cl = Objects.requireNonNullElse(Thread.currentThread().getContextClassLoader(),
                ContractValidator.class.getClassLoader());
        try (InputStream in = cl.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("spec not found on the test classpath: " + specPath);
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            // the Azure DevOps specs start with a UTF-8 BOM, which the JSON parser rejects
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + specPath, e);
        }
    }

    @Override
    public String toString() {
        return "ContractValidator[" + specPath + (mountPrefix.isEmpty() ? "" : ", mount=" + mountPrefix) + "]";
    }
}
