package io.portcamel.agent.testsupport;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContractValidatorTest {

    private static final Map<String, List<String>> JSON_BEARER = Map.of(
            "Content-Type", List.of("application/json"), "Authorization", List.of("Bearer t"));
    private static final Map<String, List<String>> CIRCLE = Map.of(
            "Content-Type", List.of("application/json"), "Circle-Token", List.of("tok"));
    private static final Map<String, List<String>> ADO = Map.of(
            "Content-Type", List.of("application/json"), "Authorization", List.of("Basic OnBhdA=="));

    @Test
    void portPatchWithUnknownStatusIsAViolationAndAValidOneIsNot() {
        ContractValidator port = ContractValidator.fromClasspath(FakePort.SPEC);
        List<String> bad = port.validate("PATCH", "/v1/actions/runs/r_1", JSON_BEARER, "{\"status\":\"DONE\"}");
        assertEquals(1, bad.size(), bad.toString());
        assertTrue(bad.get(0).startsWith("PATCH /v1/actions/runs/r_1: [validation.request.body"), bad.get(0));
        assertTrue(bad.get(0).contains("DONE"), bad.get(0));

        assertEquals(List.of(), port.validate("PATCH", "/v1/actions/runs/r_1?version=v2", JSON_BEARER,
                "{\"status\":\"SUCCESS\",\"link\":[\"https://x\"],\"statusLabel\":\"ok\"}"));
        assertFalse(port.validate("PATCH", "/v1/actions/runs/r_1", JSON_BEARER, "{\"foo\":1}").isEmpty(),
                "additionalProperties:false");
        assertFalse(port.validate("GET", "/v1/no/such/endpoint", JSON_BEARER, null).isEmpty());
        List<String> noAuth = port.validate("GET", "/v1/actions/runs/r_1", Map.of(), null);
        assertEquals(1, noAuth.size(), noAuth.toString());
        assertTrue(noAuth.get(0).contains("security"), noAuth.get(0));
        assertFalse(port.validate("POST", "/v1/blueprints/bp/entities?upsert=maybe", JSON_BEARER,
                "{\"identifier\":\"x\"}").isEmpty(), "query parameters are checked");
    }

    @Test
    void circleCiIsValidatedWithItsApiV2BasePathAndEncodedSlug() {
        ContractValidator circle = ContractValidator.fromClasspath(FakeCircleCi.SPEC);
        assertEquals(List.of(), circle.validate("POST", "/api/v2/project/gh%2Fmy%20org%2Fmy-repo/pipeline", CIRCLE,
                "{\"branch\":\"main\",\"parameters\":{\"a\":\"b\",\"n\":1,\"f\":true}}"));
        List<String> bad = circle.validate("POST", "/api/v2/project/gh%2Fo%2Fr/pipeline", CIRCLE,
                "{\"branch\":\"main\",\"parameters\":{\"a\":{\"nested\":1}}}");
        assertFalse(bad.isEmpty(), "parameter values must be string/int/bool");
        assertFalse(circle.validate("POST", "/api/v2/nope", CIRCLE, "{}").isEmpty());

        ContractValidator mounted = circle.withMountPrefix("/circleci");
        assertEquals(List.of(), mounted.validate("GET", "/circleci/api/v2/pipeline/5034460f-c7c4-4c43-9457-de07e2029e7b",
                CIRCLE, null));
    }

    @Test
    void swagger2SpecWithBomLoadsAndValidates() {
        ContractValidator ado = ContractValidator.fromClasspath("specs/azure-devops/pipelines_7.1_pipelines.json");
        assertEquals(List.of(), ado.validate("POST", "/myorg/myproj/_apis/pipelines/12/runs?api-version=7.1", ADO,
                "{\"templateParameters\":{\"env\":\"prod\"}}"));
        List<String> bad = ado.validate("POST", "/myorg/myproj/_apis/pipelines/abc/runs?api-version=7.1", ADO,
                "{\"templateParameters\":{\"env\":\"prod\"}}");
        assertFalse(bad.isEmpty(), "pipelineId must be an integer");
    }

    @Test
    void missingSpecIsReportedClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ContractValidator.fromClasspath("specs/none.json"));
        assertTrue(e.getMessage().contains("specs/none.json"));
    }

    @Test
    void wireMockContractChecksEveryRequestOfAPlainServer() throws Exception {
        WireMockServer server = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        server.start();
        try {
            server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(201)));
            String base = "http://127.0.0.1:" + server.port();
            TestHttp.send("POST", base + "/api/v2/project/gh%2Fo%2Fr/pipeline", "{\"branch\":\"main\"}", "Circle-Token", "t");
            TestHttp.send("POST", base + "/api/v2/project/gh%2Fo%2Fr/pipeline", "{\"branch\":5}", "Circle-Token", "t");
            List<String> v = WireMockContract.violations(server, ContractValidator.fromClasspath(FakeCircleCi.SPEC));
            assertEquals(1, v.size(), v.toString());
            assertTrue(v.get(0).contains("branch"), v.get(0));
            assertThrows(AssertionError.class,
                    () -> WireMockContract.assertNoViolations(server, ContractValidator.fromClasspath(FakeCircleCi.SPEC)));
        } finally {
            server.stop();
        }
    }
}
