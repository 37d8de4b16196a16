package io.portcamel.agent.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FieldDecryptorTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final String SECRET = "a".repeat(32); // port-agent's own test key

    static ObjectNode fixture(String name) throws Exception {
        try (InputStream in = FieldDecryptorTest.class.getClassLoader().getResourceAsStream("fixtures/port/" + name)) {
            return (ObjectNode) MAPPER.readTree(in);
        }
    }

    static List<String> paths(String mappingFixture) throws Exception {
        try (InputStream in = FieldDecryptorTest.class.getClassLoader().getResourceAsStream("fixtures/port/" + mappingFixture)) {
            List<String> out = new java.util.ArrayList<>();
            MAPPER.readTree(in).get(0).get("fieldsToDecryptPaths").forEach(p -> out.add(p.asText()));
            return out;
        }
    }

    @Test
    void roundTripBasic() throws Exception {
        ObjectNode msg = fixture("event-docs-decrypt-basic.json");
        ObjectNode props = (ObjectNode) msg.at("/payload/entity/properties");
        props.put("api_key", FieldDecryptor.encrypt(SECRET, "my-api-key"));
        props.put("db_password", FieldDecryptor.encrypt(SECRET, "pässwörd ✓"));
        List<String> warnings = new FieldDecryptor(SECRET).decrypt(msg, paths("mapping-decrypt-basic.json"));
        assertEquals(List.of(), warnings);
        assertEquals("my-api-key", props.get("api_key").asText());
        assertEquals("pässwörd ✓", props.get("db_password").asText());
        assertEquals("us-east-1", props.get("region").asText());
    }

    @Test
    void roundTripArrayPaths() throws Exception {
        ObjectNode msg = fixture("event-docs-decrypt-array-fragment.json");
        ObjectNode body = (ObjectNode) msg.at("/payload/action/invocationMethod/body");
        ((ObjectNode) body.get("secrets").get(0)).put("value", FieldDecryptor.encrypt(SECRET, "s0"));
        ((ObjectNode) body.get("secrets").get(1)).put("value", FieldDecryptor.encrypt(SECRET, "s1"));
        ((ObjectNode) body.get("users").get(0)).put("password", FieldDecryptor.encrypt(SECRET, "p0"));
        ((ObjectNode) body.get("users").get(1)).put("password", FieldDecryptor.encrypt(SECRET, "p1"));
        assertEquals(List.of(), new FieldDecryptor(SECRET).decrypt(msg, paths("mapping-decrypt-array.json")));
        assertEquals("s0", body.at("/secrets/0/value").asText());
        assertEquals("s1", body.at("/secrets/1/value").asText());
        assertEquals("p0", body.at("/users/0/password").asText());
        assertEquals("p1", body.at("/users/1/password").asText());
        assertEquals("porttest123", body.at("/secrets/0/key").asText());
    }

    @Test
    void keyIsFirst32BytesOfTheSecret() throws Exception {
        ObjectNode msg = (ObjectNode) MAPPER.readTree("{\"a\":{\"b\":\"" + FieldDecryptor.encrypt(SECRET + "tail", "x") + "\"}}");
        assertEquals(List.of(), new FieldDecryptor(SECRET + "different-tail").decrypt(msg, List.of("a.b")));
        assertEquals("x", msg.at("/a/b").asText());
        // format: base64(iv16 || ct || tag16)
        assertEquals(16 + 1 + 16, Base64.getDecoder().decode(FieldDecryptor.encrypt(SECRET, "x")).length);
    }

    @Test
    void failuresWarnAndKeepValue() throws Exception {
        String enc = FieldDecryptor.encrypt("b".repeat(32), "x");
        ObjectNode msg = (ObjectNode) MAPPER.readTree("{\"a\":{\"wrongKey\":\"" + enc + "\",\"plain\":\"not base64!\",\"short\":\"QUJD\",\"num\":5}}");
        List<String> w = new FieldDecryptor(SECRET).decrypt(msg, List.of("a.wrongKey", "a.plain", "a.short", "a.num", "a.missing", "x.0"));
        assertEquals(6, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("Decryption failed for 'a.wrongKey'"), w.get(0));
        assertEquals(enc, msg.at("/a/wrongKey").asText());
        assertEquals("not base64!", msg.at("/a/plain").asText());
    }

    @Test
    void skippedWhenSecretEmptyOrShort() throws Exception {
        ObjectNode msg = (ObjectNode) MAPPER.readTree("{\"a\":\"v\"}");
        List<String> w = new FieldDecryptor("").decrypt(msg, List.of("a"));
        assertEquals(1, w.size());
        assertTrue(w.get(0).contains("empty"));
        List<String> w2 = new FieldDecryptor("short").decrypt(msg, List.of("a"));
        assertTrue(w2.get(0).contains("32 bytes"), w2.toString());
        assertEquals("v", msg.get("a").asText());
        assertEquals(List.of(), new FieldDecryptor("").decrypt(msg, List.of()));
    }
}
