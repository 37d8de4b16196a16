package io.portcamel.agent.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.*;

class PythonJsonTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    static JsonNode fixture(String name) throws Exception {
        try (InputStream in = PythonJsonTest.class.getClassLoader().getResourceAsStream("fixtures/port/" + name)) {
            return MAPPER.readTree(in);
        }
    }

    static String sign(String secret, String text) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    }

    static String incomingSignature(JsonNode vectors, String fixture, String secret) throws Exception {
        ObjectNode msg = (ObjectNode) fixture(fixture);
        ObjectNode headers = (ObjectNode) msg.get("headers");
        String ts = headers.get("X-Port-Timestamp").asText();
        headers.remove("X-Port-Signature");
        headers.remove("X-Port-Timestamp");
        return sign(secret, ts + "." + PythonJson.dumps(msg, false));
    }

    @Test
    void incomingVectors() throws Exception {
        JsonNode v = fixture("signature-test-vectors.json");
        String secret = v.get("secret").asText();
        JsonNode in = v.get("incoming");
        ObjectNode msg = (ObjectNode) fixture(in.get("fixture").asText());
        ((ObjectNode) msg.get("headers")).remove("X-Port-Signature");
        ((ObjectNode) msg.get("headers")).remove("X-Port-Timestamp");
        assertEquals(in.get("canonicalSignedString").asText(), in.get("timestamp").asText() + "." + PythonJson.dumps(msg, false));
        assertEquals(in.get("expectedSignature").asText(), incomingSignature(v, in.get("fixture").asText(), secret));

        JsonNode wf = v.get("wf_node_incoming");
        assertEquals(wf.get("signature").asText(), incomingSignature(v, wf.get("fixture").asText(), secret));
    }

    @Test
    void outgoingVector() throws Exception {
        JsonNode v = fixture("signature-test-vectors.json");
        JsonNode out = v.get("outgoing_example");
        String expected = out.get("signature").asText();
        String actual = sign(v.get("secret").asText(), out.get("timestamp").asText() + "." + PythonJson.dumps(out.get("body"), true));
        assertEquals(expected, actual);
    }

    @Test
    void pythonEscapesAndNumbers() throws Exception {
        JsonNode n = MAPPER.readTree("{\"s\":\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u007f/é😀\",\"i\":12345678901234567890123,"
                + "\"f\":[3.0,1.5,1e16,1.5e16,1e-5,0.0001,0.1,-0.0,1670417632.916,1E2,123456789012345678.0],\"b\":true,\"n\":null,\"e\":{},\"a\":[]}");
        assertEquals("{\"s\":\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\u007f/é😀\",\"i\":12345678901234567890123,"
                + "\"f\":[3.0,1.5,1e+16,1.5e+16,1e-05,0.0001,0.1,-0.0,1670417632.916,100.0,1.2345678901234568e+17],\"b\":true,\"n\":null,\"e\":{},\"a\":[]}",
                PythonJson.dumps(n, false));
        assertEquals("{\"s\":\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u007f/\\u00e9\\ud83d\\ude00\",\"i\":12345678901234567890123,"
                + "\"f\":[3.0,1.5,1e+16,1.5e+16,1e-05,0.0001,0.1,-0.0,1670417632.916,100.0,1.2345678901234568e+17],\"b\":true,\"n\":null,\"e\":{},\"a\":[]}",
                PythonJson.dumps(n, true));
    }

    @Test
    void floatReprShortest() {
        assertEquals("0.30000000000000004", PythonJson.floatRepr(0.1 + 0.2));
        assertEquals("5e-324", PythonJson.floatRepr(Double.MIN_VALUE));
        assertEquals("1.7976931348623157e+308", PythonJson.floatRepr(Double.MAX_VALUE));
        assertEquals("2e-07", PythonJson.floatRepr(2e-7));
        assertEquals("1234567890123456.0", PythonJson.floatRepr(1234567890123456.0));
        assertEquals("NaN", PythonJson.floatRepr(Double.NaN));
        assertEquals("-Infinity", PythonJson.floatRepr(Double.NEGATIVE_INFINITY));
    }
}
