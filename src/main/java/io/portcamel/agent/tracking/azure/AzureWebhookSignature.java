package io.portcamel.agent.tracking.azure;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/**
 * The optional checksum of an Azure DevOps "Incoming WebHook" service connection (REFERENCE §6.1): the header named in
 * the connection carries the uppercase hex HMAC-SHA1 of the raw body. jq cannot compute an HMAC, so the agent must;
 * the body must be the exact bytes sent (minified JSON).
 */
public final class AzureWebhookSignature {

    private AzureWebhookSignature() {
    }

    /** Uppercase hex HMAC-SHA1(secret, body), e.g. {@code 750D33212D3AD4932CC390819050734831A0A94F}. */
    public static String hmacSha1Hex(String secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            return HexFormat.of().withUpperCase().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA1 unavailable", e);
        }
    }
}
