package io.portcamel.agent.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Port's HMAC-SHA256 signatures ("v1," + base64), keyed with PORT_CLIENT_SECRET.
 * Incoming Kafka messages carry theirs inside the JSON ({@code headers}); Port's webhook calls and our own
 * outgoing calls carry it in HTTP headers. All comparisons are constant-time.
 */
public final class PortSignature {
    public static final String SIGNATURE_HEADER = "X-Port-Signature";
    public static final String TIMESTAMP_HEADER = "X-Port-Timestamp";

    private final byte[] key;

    public PortSignature(String clientSecret) {
        this.key = clientSecret.getBytes(StandardCharsets.UTF_8);
    }

    /** Why a message was refused; null means it verified. */
    public record Verdict(boolean valid, String reason) {
        static Verdict ok() {
            return new Verdict(true, null);
        }

        static Verdict refused(String reason) {
            return new Verdict(false, reason);
        }
    }

    /**
     * Verifies the in-message signature exactly as port-agent does: take and remove X-Port-Signature and
     * X-Port-Timestamp from {@code headers} (the emptied object stays; for GITLAB the whole member goes),
     * re-serialise like Python's {@code json.dumps(separators=(',',':'), ensure_ascii=False)} and compare.
     * No replay window: a redelivery after downtime must still pass. The message is left without the
     * signature headers, as the mapping sees it.
     */
    public Verdict verifyMessage(ObjectNode message) {
        JsonNode headers = message.get("headers");
        if (!(headers instanceof ObjectNode h)) {
            return Verdict.refused("no signature: the message has no 'headers' member");
        }
        JsonNode sig = h.get(SIGNATURE_HEADER);
        JsonNode ts = h.get(TIMESTAMP_HEADER);
        if (sig == null || !sig.isTextual() || ts == null || ts.isNull()) {
            return Verdict.refused("no signature: headers." + SIGNATURE_HEADER + " or headers." + TIMESTAMP_HEADER + " is missing");
        }
        h.remove(SIGNATURE_HEADER);
        h.remove(TIMESTAMP_HEADER);
        if ("GITLAB".equals(message.at("/payload/action/invocationMethod/type").asText())) {
            message.remove("headers");
        }
        String signed = ts.asText() + "." + PythonJson.dumps(message, false);
        return equal(sig.asText(), sign(signed)) ? Verdict.ok() : Verdict.refused("signature does not match the message");
    }

    /**
     * The counterpart of {@link #verifyMessage}: a copy of the message signed the way Port signs what it publishes
     * ({@code headers} emptied, Python-compatible compact JSON, the signature and timestamp put back into {@code headers}).
     * Used by the demo, the tests and the benchmark to produce genuine Port messages.
     */
    public ObjectNode signMessage(ObjectNode message, long timestampSeconds) {
        ObjectNode copy = message.deepCopy();
        copy.remove("headers");
        copy.putObject("headers");
        String sig = sign(timestampSeconds + "." + PythonJson.dumps(copy, false));
        ((ObjectNode) copy.get("headers")).put(SIGNATURE_HEADER, sig).put(TIMESTAMP_HEADER, timestampSeconds);
        return copy;
    }

    /**
     * Verifies Port's webhook call: {@code v1,base64(HMAC(secret, "{timestamp}.{raw body}"))}, with the timestamp
     * no further than {@code maxSkewSeconds} from now (seconds; milliseconds are accepted too).
     */
    public Verdict verifyWebhook(String signature, String timestamp, byte[] rawBody, long nowEpochSeconds, long maxSkewSeconds) {
        if (signature == null || signature.isBlank() || timestamp == null || timestamp.isBlank()) {
            return Verdict.refused("missing " + SIGNATURE_HEADER + " or " + TIMESTAMP_HEADER + " header");
        }
        long ts;
        try {
            ts = Long.parseLong(timestamp.trim());
        } catch (NumberFormatException e) {
            return Verdict.refused(TIMESTAMP_HEADER + " is not a number");
        }
        long seconds = ts > 100_000_000_000L ? ts / 1000 : ts;
        if (Math.abs(nowEpochSeconds - seconds) > maxSkewSeconds) {
            return Verdict.refused("stale " + TIMESTAMP_HEADER + " (" + (nowEpochSeconds - seconds) + " s from now, limit " + maxSkewSeconds + " s)");
        }
        byte[] prefix = (timestamp.trim() + ".").getBytes(StandardCharsets.UTF_8);
        byte[] signed = new byte[prefix.length + rawBody.length];
        System.arraycopy(prefix, 0, signed, 0, prefix.length);
        System.arraycopy(rawBody, 0, signed, prefix.length, rawBody.length);
        return equal(signature.trim(), sign(signed)) ? Verdict.ok() : Verdict.refused("signature does not match the body");
    }

    /** The outgoing signature over the exact bytes we send (port-agent signs other bytes than it sends). */
    public String signOutgoing(String timestamp, byte[] sentBody) {
        byte[] prefix = (timestamp + ".").getBytes(StandardCharsets.UTF_8);
        byte[] signed = new byte[prefix.length + sentBody.length];
        System.arraycopy(prefix, 0, signed, 0, prefix.length);
        System.arraycopy(sentBody, 0, signed, prefix.length, sentBody.length);
        return sign(signed);
    }

    public String sign(String text) {
        return sign(text.getBytes(StandardCharsets.UTF_8));
    }

    public String sign(byte[] data) {
        return "v1," + Base64.getEncoder().encodeToString(hmac("HmacSHA256", key, data));
    }

    static byte[] hmac(String algorithm, byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance(algorithm);
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, algorithm));
            return mac.doFinal(data);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(algorithm + " unavailable", e);
        }
    }

    private static boolean equal(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
