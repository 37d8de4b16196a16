package io.portcamel.agent.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.thisptr.jackson.jq.Scope;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.portcamel.agent.mapping.Fixtures.parse;
import static org.junit.jupiter.api.Assertions.*;

class MappingSemanticsTest {

    static final Scope SCOPE = JqEnvironment.rootScope(JqEnvironment.mappingEnv(Map.of(
            "CIRCLE_CI_TOKEN", "tok", "PORT_CLIENT_SECRET", "s3cr3t", "PORT_CLIENT_ID", "id",
            "KAFKA_CONSUMER_PASSWORD", "pw", "KAFKA_SASL_PASSWORD", "pw2", "MY_VAR", "v")));

    static MappingSet set(String json) throws MappingException {
        return MappingSet.parse(json, "invocations.json", SCOPE);
    }

    static Mapping one(String mappingJson) throws MappingException {
        return set("[" + mappingJson + "]").mappings().get(0);
    }

    static final JsonNode MSG = parse("""
            {"action":"deploy","context":{"runId":"r_1"},"trigger":{"at":"2022-12-07T12:53:52.916Z"},
             "payload":{"entity":{"properties":{"slug":"gh/my org/repo"}},
               "action":{"invocationMethod":{"type":"WEBHOOK","agent":true,"method":"PUT","url":"https://t.example/x"}},
               "properties":{"branch":"dev","n":3,"f":1.5}}}""");

    @Test
    void firstMatchWinsAndOnlyExactTrue() throws Exception {
        MappingSet s = set("""
                [{"enabled": ".action", "url": "\\"a\\""},
                 {"enabled": ".action == \\"other\\"", "url": "\\"b\\""},
                 {"enabled": ".action == \\"deploy\\"", "url": "\\"c\\""},
                 {"enabled": true, "url": "\\"d\\""}]""");
        Mapping m = s.select(MSG).orElseThrow();
        assertEquals(2, m.index());
        assertEquals("c", m.render(MSG).url());
    }

    @Test
    void literalCoercionAndDefaultEnabled() throws Exception {
        assertTrue(set("[{\"enabled\": \"yes\"}]").select(MSG).isPresent());
        assertTrue(set("[{\"enabled\": \"ON\"}]").select(MSG).isPresent());
        assertTrue(set("[{\"enabled\": \"1\"}]").select(MSG).isPresent());
        assertTrue(set("[{}]").select(MSG).isPresent());
        assertFalse(set("[{\"enabled\": \"false\"}]").select(MSG).isPresent());
        assertFalse(set("[{\"enabled\": false}]").select(MSG).isPresent());
        // jq error in enabled = not matched
        assertFalse(set("[{\"enabled\": \".action | error(\\\"x\\\")\"}]").select(MSG).isPresent());
        assertEquals(0, set("[]").mappings().size());
    }

    @Test
    void defaults() throws Exception {
        RenderedRequest r = one("{}").render(MSG);
        assertEquals("PUT", r.method());
        assertEquals("https://t.example/x", r.url());
        assertEquals(Map.of(), r.headers());
        assertEquals(Map.of(), r.query());
        assertSame(MSG, r.body());
        RenderedRequest r2 = one("{}").render(parse("{\"action\":\"x\"}"));
        assertEquals("POST", r2.method());
        assertEquals("", r2.url());
    }

    @Test
    void recursionIntoArraysLiteralsAndEmptyObjectDrop() throws Exception {
        Mapping m = one("""
                {"body": {"key": 2, "flag": true, "none": null, "list": [".action", 7, {"b": ".payload.properties.branch"}, {}],
                  "key2": {"key3": ".im.a.jq.expression", "key4": "\\"im a string\\""},
                  "empty": {}, "nested": {"alsoEmpty": {}}, "n": ".payload.properties.n * 1.0"}}""");
        JsonNode b = m.render(MSG).body();
        assertEquals(parse("""
                {"key":2,"flag":true,"none":null,"list":["deploy",7,{"b":"dev"},{}],
                 "key2":{"key3":null,"key4":"im a string"},"n":3}"""), b);
        assertTrue(b.get("n").isIntegralNumber(), "pyjq turns integral jq numbers into ints");
    }

    @Test
    void bodyJqStringAndNoOutputIsNull() throws Exception {
        assertEquals(parse("{\"branch\":\"dev\",\"n\":3,\"f\":1.5}"), one("{\"body\": \".payload.properties\"}").render(MSG).body());
        assertNull(one("{\"body\": \"empty\"}").render(MSG).body());
        assertNull(one("{\"body\": \".body\"}").render(MSG).body(), "the docs' .body trap sends no body");
        assertEquals("deploy", one("{\"body\": \".action, 1\"}").render(MSG).body().asText(), "first output");
    }

    @Test
    void headersAsOneJqStringAndQuery() throws Exception {
        RenderedRequest r = one("""
                {"headers": "{\\"X-A\\": .action, \\"X-N\\": .payload.properties.n, \\"X-F\\": .payload.properties.f, \\"X-B\\": true, \\"X-Null\\": null}",
                 "query": {"branch": ".payload.properties.branch", "n": 5}}""").render(MSG);
        Map<String, String> h = new LinkedHashMap<>();
        h.put("X-A", "deploy");
        h.put("X-N", "3");
        h.put("X-F", "1.5");
        h.put("X-B", "True");
        assertEquals(h, r.headers());
        assertEquals(new java.util.ArrayList<>(h.keySet()), new java.util.ArrayList<>(r.headers().keySet()));
        assertEquals(Map.of("branch", "dev", "n", "5"), r.query());
        assertEquals("{\"method\":\"PUT\",\"url\":\"https://t.example/x\",\"headers\":{\"X-A\":\"deploy\",\"X-N\":\"3\",\"X-F\":\"1.5\",\"X-B\":\"True\"},\"query\":{\"branch\":\"dev\",\"n\":\"5\"},\"body\":" + MSG + "}",
                r.toJson().toString());
    }

    @Test
    void nullUrlAndBadHeadersThrow() throws Exception {
        MappingEvaluationException e = assertThrows(MappingEvaluationException.class,
                () -> one("{\"url\": \".nope\"}").render(MSG));
        assertTrue(e.getMessage().contains("mapping #0 field \"url\""), e.getMessage());
        assertTrue(e.getMessage().contains("null"), e.getMessage());
        e = assertThrows(MappingEvaluationException.class, () -> one("{\"headers\": \".nope\"}").render(MSG));
        assertEquals("headers", e.field());
        e = assertThrows(MappingEvaluationException.class, () -> one("{\"headers\": \"[1]\"}").render(MSG));
        assertTrue(e.getMessage().contains("object"), e.getMessage());
    }

    @Test
    void runtimeErrorNamesField() throws Exception {
        MappingSet s = set("[{\"enabled\": false}, {\"body\": {\"a\": {\"b\": \".action | tonumber\"}}}]");
        MappingEvaluationException e = assertThrows(MappingEvaluationException.class,
                () -> s.mappings().get(1).render(MSG));
        assertEquals(1, e.mappingIndex());
        assertEquals("body.a.b", e.field());
        assertTrue(e.getMessage().startsWith("mapping #1 field \"body.a.b\": jq error: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void compileErrorAtLoadNamesFileIndexField() {
        MappingException e = assertThrows(MappingException.class, () -> set("""
                [{}, {}, {"body": {"branch": ".x", "parameters": ".payload | to_entries | map("}}]"""));
        assertTrue(e.getMessage().startsWith("invocations.json: mapping #2 field \"body.parameters\": jq compile error: "),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        // jq 1.6 grammar: if without else does not compile
        assertThrows(MappingException.class, () -> set("[{\"url\": \"if .a then 1 end\"}]"));
    }

    @Test
    void shapeErrors() {
        assertMessage("{}", "invocations.json: must be a JSON array");
        assertMessage("[1]", "invocations.json: mapping #0: must be an object");
        assertMessage("[{\"enabled\": []}]", "invocations.json: mapping #0 field \"enabled\": must be a boolean or a jq string");
        assertMessage("[{\"report\": \"x\"}]", "invocations.json: mapping #0 field \"report\": must be an object");
        assertMessage("[{\"fieldsToDecryptPaths\": \"a.b\"}]", "invocations.json: mapping #0 field \"fieldsToDecryptPaths\"");
        assertMessage("[{\"fieldsToDecryptPaths\": [1]}]", "invocations.json: mapping #0 field \"fieldsToDecryptPaths[0]\"");
        assertMessage("[{\"body\": [1]}]", "invocations.json: mapping #0 field \"body\": must be an object template");
        assertMessage("[{,]", "invocations.json: invalid JSON at line 1");
    }

    private static void assertMessage(String json, String prefix) {
        MappingException e = assertThrows(MappingException.class, () -> set(json));
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }

    @Test
    void unknownKeysKeptRawAndReportKeysAllowed() throws Exception {
        Mapping m = one("{\"x-owner\": {\"team\": \"platform\"}, \"allowedHosts\": [\"a\"], \"report\": {\"foo\": 1}, \"fieldsToDecryptPaths\": [\"a.b\"]}");
        assertEquals("platform", m.raw().path("x-owner").path("team").asText());
        assertEquals(java.util.List.of("a.b"), m.fieldsToDecryptPaths());
    }

    @Test
    void trackAndEntityExtensionsAreValidatedAtLoad() throws Exception {
        Mapping m = one("{\"track\": {\"type\": \"circleci\", \"deadlineSeconds\": 60, \"params\": {\"deployName\": \".action\"}}}");
        assertEquals("circleci", m.track().orElseThrow().type());
        assertEquals(60L, m.track().orElseThrow().deadlineSeconds());
        assertEquals("deploy", m.renderTrackParams(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("{\"action\":\"deploy\"}")).path("deployName").asText());
        assertMessage("[{\"track\": {\"type\": \"jenkins\"}}]", "invocations.json: mapping #0 field \"track.type\": must be one of");
        assertMessage("[{\"track\": {\"type\": \"circleci\", \"deadlineSeconds\": -1}}]", "invocations.json: mapping #0 field \"track.deadlineSeconds\"");
        assertMessage("[{\"track\": {\"type\": \"circleci\", \"params\": {\"x\": \".a |\"}}}]", "invocations.json: mapping #0 field \"track.params.x\": jq compile error");
        assertMessage("[{\"entity\": {\"identifier\": \".a\"}}]", "invocations.json: mapping #0 field \"entity\"");
        assertMessage("[{\"bodySignature\": {\"header\": \"X-WH-Checksum\", \"secretEnv\": \"PORT_CLIENT_SECRET\"}}]",
                "invocations.json: mapping #0 field \"bodySignature.secretEnv\"");
    }

    @Test
    void envHidesAgentSecretsAndEnvVarWorks() throws Exception {
        RenderedRequest r = one("""
                {"body": {"tok": "env.CIRCLE_CI_TOKEN", "secret": "env.PORT_CLIENT_SECRET", "id": "env.PORT_CLIENT_ID",
                  "kp": "$ENV.KAFKA_CONSUMER_PASSWORD", "kp2": "env.KAFKA_SASL_PASSWORD", "v": "$ENV.MY_VAR",
                  "keys": "env | keys"}}""").render(MSG);
        assertEquals(parse("{\"tok\":\"tok\",\"secret\":null,\"id\":null,\"kp\":null,\"kp2\":null,\"v\":\"v\",\"keys\":[\"CIRCLE_CI_TOKEN\",\"MY_VAR\"]}"),
                r.body());
        Map<String, String> env = JqEnvironment.mappingEnv(Map.of("PORT_CLIENT_SECRET", "x", "KAFKA_CONSUMER_USERNAME", "u",
                "PORT_ORG_ID", "org", "HOME", "/root"));
        assertEquals(Map.of("PORT_ORG_ID", "org", "HOME", "/root"), env);
    }

    @Test
    void interpolationAndDatesFormatLikeJq() throws Exception {
        JsonNode b = one("""
                {"body": {"s": "\\"at \\\\(.trigger.at | fromdate)\\"", "t": ".trigger.at | fromdate | todate", "f": "\\"\\\\(.payload.properties.f * 2)\\""}}""")
                .render(MSG).body();
        assertEquals("at 1670417632.916", b.get("s").asText());
        assertEquals("2022-12-07T12:53:52Z", b.get("t").asText());
        assertEquals("3", b.get("f").asText());
    }

    @Test
    void reportDefaultsOverridesAndNullRemoval() throws Exception {
        ObjectNode req = (ObjectNode) parse("{\"method\":\"POST\",\"url\":\"u\",\"body\":null,\"headers\":{},\"query\":{}}");
        // no report section: defaults only
        Mapping plain = one("{}");
        assertEquals(parse("{}"), ReportBuilder.build(plain, MSG, req, 200, Map.of(), "ok", false, false));
        assertEquals(parse("{\"status\":\"SUCCESS\"}"), ReportBuilder.build(plain, MSG, req, 201, Map.of(), "", true, false));
        assertEquals(parse("{\"status\":\"FAILURE\",\"summary\":\"Failed to invoke the webhook with status code: 500.\"}"),
                ReportBuilder.build(plain, MSG, req, 500, Map.of(), "boom", false, false));
        assertEquals(parse("{\"status\":\"FAILURE\",\"summary\":\"Failed to invoke the webhook with status code: 404. Response: nope\"}"),
                ReportBuilder.build(plain, MSG, req, 404, Map.of(), "nope", true, true));

        Mapping rep = one("""
                {"report": {"status": "if .response.statusCode == 201 then \\"SUCCESS\\" else \\"FAILURE\\" end",
                  "link": "\\"https://x/\\" + .response.json.id + \\"/\\" + .body.context.runId + .request.method",
                  "externalRunId": ".response.json.id", "summary": "null", "statusLabel": "\\"Deployed \\" + .response.headers[\\"X-V\\"]"}}""");
        ObjectNode r = ReportBuilder.build(rep, MSG, req, 201, Map.of("X-V", "7"), "{\"id\":\"abc\"}", false, false);
        assertEquals(parse("{\"status\":\"SUCCESS\",\"link\":\"https://x/abc/r_1POST\",\"externalRunId\":\"abc\",\"statusLabel\":\"Deployed 7\"}"), r);

        // a null report field erases the FAILURE default (port-agent rule)
        Mapping eraser = one("{\"report\": {\"status\": \"null\", \"summary\": \".response.json.msg\"}}");
        assertEquals(parse("{\"summary\":\"bad\"}"),
                ReportBuilder.build(eraser, MSG, req, 500, Map.of(), "{\"msg\":\"bad\"}", false, false));
        // report() returns only defined fields, null kept
        ObjectNode direct = eraser.report(ReportBuilder.context(MSG, req, 500, Map.of(), "not json"));
        assertEquals(parse("{\"status\":null,\"summary\":null}"), direct);
    }

    @Test
    void evaluationIsCheap() throws Exception {
        Mapping m = MappingSet.parse(Fixtures.text("mapping-circleci.json"), "c.json", SCOPE).mappings().get(0);
        JsonNode msg = parse("{\"action\":\"trigger_circle_ci_pipeline\",\"payload\":{\"entity\":{\"properties\":{\"project_slug\":\"gh/o/r\"}},\"action\":{\"invocationMethod\":{}},\"properties\":{\"a\":1,\"b\":\"x\"}}}");
        for (int i = 0; i < 2000; i++) {
            m.render(msg);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            m.render(msg);
        }
        long perCallMicros = (System.nanoTime() - t0) / 1000 / 1000;
        assertTrue(perCallMicros < 2000, "render took " + perCallMicros + "us");
    }
}
