package io.portcamel.agent.mapping;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A mapping's {@code bodySignature}: the target checks an HMAC of the raw body in a header (Azure DevOps "Incoming
 * WebHook" connections: upper-case hex HMAC-SHA1 in the configured header). jq cannot compute it, and only the agent
 * knows the exact bytes it sends, so the agent signs them.
 */
public record BodySignature(String algorithm, String header, String secretEnv) {
    static final List<String> ALGORITHMS = List.of("hmac-sha1-hex", "hmac-sha256-hex");

    /** The header value for these body bytes, with the secret read from {@code env}; null when the secret is unset. */
    public String sign(byte[] body, Map<String, String> env) {
        String secret = env.get(secretEnv);
        if (secret == null || secret.isEmpty()) {
            return null;
        }
        String jca = algorithm.equals("hmac-sha1-hex") ? "HmacSHA1" : "HmacSHA256";
        try {
            Mac mac = Mac.getInstance(jca);
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), jca));
            return HexFormat.of().withUpperCase().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(jca + " unavailable", e);
        }
    }
}
