package io.portcamel.agent;

/** Test credentials: the client secret is ≥ 32 bytes so it also works as the AES-256 decryption key. */
public final class TestSecrets {
    public static final String CLIENT_SECRET = "s3cr3t-client-secret-for-tests-0123456789";
    public static final String CIRCLE_TOKEN = "circle-token-abcdef123456";

    private TestSecrets() { }
}
