package io.portcamel.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcamel.agent.security.FieldDecryptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RenderCommandTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
    }

    Result render(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = RenderCommand.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    Path fixture(String name) throws Exception {
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("fixtures/port/" + name)) {
            Path p = dir.resolve(name);
            Files.write(p, in.readAllBytes());
            return p;
        }
    }

    Path write(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    Path circleEvent() throws Exception {
        ObjectNode ev = (ObjectNode) MAPPER.readTree(Files.readString(fixture("event-docs-incoming-run.json")));
        ev.put("action", "trigger_circle_ci_pipeline");
        ((ObjectNode) ev.path("payload").path("entity").path("properties")).put("project_slug", "gh/my org/my repo");
        ((ObjectNode) ev.path("payload").path("properties")).put("branch", "dev").put("n", 2);
        return write("circle-event.json", ev.toString());
    }

    @Test
    void rendersCircleCi() throws Exception {
        Result r = render(Map.of("CIRCLE_CI_TOKEN", "tok", "PORT_CLIENT_SECRET", "not-visible"),
                "--mapping", fixture("mapping-circleci.json").toString(), "--event", circleEvent().toString());
        assertEquals(0, r.code(), r.err());
        JsonNode out = MAPPER.readTree(r.out());
        assertEquals(MAPPER.readTree("""
                {"mappingIndex":0,"request":{"method":"POST",
                 "url":"https://circleci.com/api/v2/project/gh%2Fmy%20org%2Fmy%20repo/pipeline",
                 "headers":{"Circle-Token":"tok"},"query":{},
                 "body":{"branch":"dev","parameters":{"branch":"dev","n":"2"}}}}"""), out);
        assertTrue(r.out().contains("\n  "), "pretty printed");
    }

    @Test
    void rendersDefaultMappingForSignedKafkaEventWithoutSignatureHeaders() throws Exception {
        Result r = render(Map.of(), "--mapping", fixture("mapping-default-control_the_payload_config.json").toString(),
                "--event", fixture("event-test-kafka-run-webhook-signed.json").toString());
        assertEquals(0, r.code(), r.err());
        JsonNode out = MAPPER.readTree(r.out());
        assertEquals(1, out.get("mappingIndex").asInt());
        assertEquals("http://localhost:80/api/test", out.at("/request/url").asText());
        assertEquals("{}", out.at("/request/body/headers").toString());
    }

    @Test
    void decryptsWhenSecretIsSet() throws Exception {
        String secret = "0123456789abcdef0123456789abcdef-extra";
        ObjectNode ev = (ObjectNode) MAPPER.readTree(Files.readString(fixture("event-docs-decrypt-basic.json")));
        ObjectNode props = (ObjectNode) ev.at("/payload/entity/properties");
        props.put("api_key", FieldDecryptor.encrypt(secret, "key-1"));
        props.put("db_password", FieldDecryptor.encrypt(secret, "pw-2"));
        Result r = render(Map.of("PORT_CLIENT_SECRET", secret), "--mapping",
                fixture("mapping-decrypt-basic.json").toString(), "--event", write("ev.json", ev.toString()).toString());
        assertEquals(0, r.code(), r.err());
        JsonNode out = MAPPER.readTree(r.out());
        assertEquals("key-1", out.at("/request/body/payload/entity/properties/api_key").asText());
        assertEquals("pw-2", out.at("/request/body/payload/entity/properties/db_password").asText());
    }

    @Test
    void noMatch() throws Exception {
        Result r = render(Map.of(), "--mapping", fixture("mapping-circleci.json").toString(), "--event",
                fixture("event-docs-incoming-run.json").toString());
        assertEquals(RenderCommand.NO_MATCH, r.code());
        assertEquals("render: no mapping in mapping-circleci.json matched the event (1 mappings tried)", r.err().trim());
        assertEquals("", r.out());
    }

    @Test
    void invalidJqAndInvalidFiles() throws Exception {
        Path bad = write("invocations.json", "[{\"enabled\": true}, {\"url\": \".a | \"}]");
        Result r = render(Map.of(), "--mapping", bad.toString(), "--event", fixture("event-docs-incoming-run.json").toString());
        assertEquals(RenderCommand.BAD_MAPPING, r.code());
        assertTrue(r.err().startsWith("render: invocations.json: mapping #1 field \"url\": jq compile error:"), r.err());
        assertEquals(1, r.err().trim().lines().count());

        Result missing = render(Map.of(), "--mapping", dir.resolve("nope.json").toString(), "--event",
                fixture("event-docs-incoming-run.json").toString());
        assertEquals(RenderCommand.BAD_INPUT, missing.code());
        assertTrue(missing.err().contains("not found"), missing.err());

        Path notJson = write("ev.json", "{oops");
        Result invalid = render(Map.of(), "--mapping", bad.toString(), "--event", notJson.toString());
        assertEquals(RenderCommand.BAD_INPUT, invalid.code());
        assertTrue(invalid.err().contains("invalid JSON"), invalid.err());
    }

    @Test
    void runtimeErrorAndUsage() throws Exception {
        Path m = write("m.json", "[{\"url\": \".action | tonumber\"}]");
        Result r = render(Map.of(), "--mapping", m.toString(), "--event", fixture("event-docs-incoming-run.json").toString());
        assertEquals(RenderCommand.EVAL_ERROR, r.code());
        assertTrue(r.err().startsWith("render: m.json: mapping #0 field \"url\": jq error:"), r.err());

        assertEquals(RenderCommand.USAGE, render(Map.of(), "--mapping", "x").code());
        Result u = render(Map.of(), "--bogus");
        assertEquals(RenderCommand.USAGE, u.code());
        assertTrue(u.err().contains("usage: render --mapping FILE --event FILE"));
    }
}
