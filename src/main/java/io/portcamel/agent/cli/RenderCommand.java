package io.portcamel.agent.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.mapping.JqEnvironment;
import io.portcamel.agent.mapping.Mapping;
import io.portcamel.agent.mapping.MappingEvaluationException;
import io.portcamel.agent.mapping.MappingException;
import io.portcamel.agent.mapping.MappingSet;
import io.portcamel.agent.mapping.RenderedRequest;
import io.portcamel.agent.security.FieldDecryptor;
import net.thisptr.jackson.jq.Scope;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code render --mapping FILE --event FILE}: shows the request the agent would send for an event, without sending
 * anything. Why: mapping authors can check a mapping (and our jq dialect) offline, the way port-agent users
 * otherwise only find out from a run stuck IN_PROGRESS.
 * <p>
 * Same pipeline as the agent: signature headers are removed from the event, the mapping is selected (before
 * decryption, as port-agent does), fields are decrypted when PORT_CLIENT_SECRET is set, then the request is
 * rendered with {@code env} limited to {@link JqEnvironment#mappingEnv(Map)}.
 * Exit codes: 0 ok, 2 usage, 3 unreadable/invalid input file, 4 invalid mapping file, 5 no mapping matched,
 * 6 evaluation error.
 */
public final class RenderCommand {

    public static final int OK = 0;
    public static final int USAGE = 2;
    public static final int BAD_INPUT = 3;
    public static final int BAD_MAPPING = 4;
    public static final int NO_MATCH = 5;
    public static final int EVAL_ERROR = 6;

    private static final String USAGE_TEXT = "usage: render --mapping FILE --event FILE";
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RenderCommand() {
    }

    public static int run(String[] args, Map<String, String> processEnv, PrintStream out, PrintStream err) {
        String mappingFile = null;
        String eventFile = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if ((a.equals("--mapping") || a.equals("--event")) && i + 1 < args.length) {
                if (a.equals("--mapping")) {
                    mappingFile = args[++i];
                } else {
                    eventFile = args[++i];
                }
            } else if (a.startsWith("--mapping=")) {
                mappingFile = a.substring("--mapping=".length());
            } else if (a.startsWith("--event=")) {
                eventFile = a.substring("--event=".length());
            } else {
                err.println("render: unexpected argument '" + a + "'; " + USAGE_TEXT);
                return USAGE;
            }
        }
        if (mappingFile == null || eventFile == null) {
            err.println("render: " + USAGE_TEXT);
            return USAGE;
        }

        JsonNode event;
        Path eventPath = Path.of(eventFile);
        try {
            event = MAPPER.readTree(Files.readString(eventPath, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            err.println("render: event file not found: " + eventFile);
            return BAD_INPUT;
        } catch (JsonProcessingException e) {
            err.println("render: " + eventPath.getFileName() + ": invalid JSON: "
                    + e.getOriginalMessage().replaceAll("\\s+", " "));
            return BAD_INPUT;
        } catch (IOException e) {
            err.println("render: cannot read " + eventFile + ": " + e.getMessage());
            return BAD_INPUT;
        }
        if (event == null || !event.isObject()) {
            err.println("render: " + eventPath.getFileName() + ": the event must be a JSON object");
            return BAD_INPUT;
        }
        ObjectNode message = toRunMessage((ObjectNode) event);

        Path mappingPath = Path.of(mappingFile);
        if (!Files.exists(mappingPath)) {
            err.println("render: mapping file not found: " + mappingFile);
            return BAD_INPUT;
        }
        Scope scope = JqEnvironment.rootScope(JqEnvironment.mappingEnv(processEnv));
        MappingSet set;
        try {
            set = MappingSet.load(mappingPath, scope);
        } catch (MappingException e) {
            err.println("render: " + e.getMessage());
            return BAD_MAPPING;
        }

        Optional<Mapping> selected = set.select(message);
        if (selected.isEmpty()) {
            err.println("render: no mapping in " + mappingPath.getFileName() + " matched the event ("
                    + set.mappings().size() + " mappings tried)");
            return NO_MATCH;
        }
        Mapping mapping = selected.get();
        String secret = processEnv.get("PORT_CLIENT_SECRET");
        if (secret != null && !mapping.fieldsToDecryptPaths().isEmpty()) {
            List<String> warnings = new FieldDecryptor(secret).decrypt(message, mapping.fieldsToDecryptPaths());
            warnings.forEach(w -> err.println("render: warning: " + w));
        }
        RenderedRequest request;
        try {
            request = mapping.render(message);
        } catch (MappingEvaluationException e) {
            err.println("render: " + mappingPath.getFileName() + ": " + e.getMessage());
            return EVAL_ERROR;
        }
        ObjectNode result = MAPPER.createObjectNode();
        result.put("mappingIndex", mapping.index());
        result.set("request", request.toJson());
        try {
            out.println(MAPPER.writeValueAsString(result));
        } catch (JsonProcessingException e) {
            err.println("render: cannot print the result: " + e.getMessage());
            return EVAL_ERROR;
        }
        return OK;
    }

    /**
     * The message the mapping sees: a claimed (polled) run is rebuilt like port-agent does (REFERENCE 1.5), and
     * the in-message signature headers are removed (the whole {@code headers} member for GITLAB).
     */
    public static ObjectNode toRunMessage(ObjectNode event) {
        ObjectNode msg = event;
        JsonNode p = event.get("payload");
        if (event.has("id") && p != null && p.isObject() && p.has("body") && p.get("body").isObject()
                && p.has("type")) {
            msg = ((ObjectNode) p.get("body")).deepCopy();
            msg.set("headers", p.has("headers") ? p.get("headers") : MAPPER.createObjectNode());
            ObjectNode im = msg.with("payload").with("action").putObject("invocationMethod");
            for (String f : List.of("type", "url", "synchronized", "method", "headers")) {
                if (p.has(f)) {
                    im.set(f, p.get(f));
                }
            }
            msg.with("context").set("runId", event.get("id"));
        } else {
            msg = event.deepCopy();
        }
        JsonNode type = msg.path("payload").path("action").path("invocationMethod").path("type");
        if (msg.get("headers") instanceof ObjectNode h) {
            if ("GITLAB".equals(type.asText()) && (h.has("X-Port-Signature") || h.has("X-Port-Timestamp"))) {
                msg.remove("headers");
            } else {
                h.remove("X-Port-Signature");
                h.remove("X-Port-Timestamp");
            }
        }
        return msg;
    }
}
