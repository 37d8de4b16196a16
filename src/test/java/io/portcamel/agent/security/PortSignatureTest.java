package io.portcamel.agent.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortSignatureTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode fixture() throws Exception {
        try (InputStream in = PortSignatureTest.class.getResourceAsStream("/fixtures/port/event-test-kafka-run-webhook-signed.json")) {
            return (ObjectNode) JSON.readTree(in);
        }
    }

    @Test
    void signingReproducesPortsOwnVectorAndVerifies() throws Exception {
        PortSignature signature = new PortSignature("test");
        ObjectNode signed = signature.signMessage(fixture(), 1713277889);
        assertEquals("v1,uuBMfcio3oscejO5bOtL97K1AmiZjxDvou7sChjMNeE=", signed.at("/headers/X-Port-Signature").asText());
        assertTrue(signature.verifyMessage(signed.deepCopy()).valid());
        ObjectNode tampered = signed.deepCopy();
        tampered.put("action", "Delete");
        assertFalse(signature.verifyMessage(tampered).valid());
    }
}
