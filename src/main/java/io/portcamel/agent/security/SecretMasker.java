package io.portcamel.agent.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Masks secrets in everything the agent logs (also under DETAILED_LOGGING, where port-agent prints them):
 * values of secret-looking keys and headers, and any occurrence of a known secret value
 * (PORT_CLIENT_SECRET and every environment variable whose name says token, secret, password or key).
 */
public final class SecretMasker {
    public static final String MASK = "****";
    private static final Pattern SECRET_NAME = Pattern.compile(
            "(?i).*(authorization|token|secret|password|passwd|api[-_]?key|private[-_]?key|credential|cookie|signature|jaas).*");
    /** Short values would mask harmless text everywhere ("true", "1"): only values of 6+ characters are masked. */
    private static final int MIN_SECRET_LENGTH = 6;

    private final List<String> secretValues;

    public SecretMasker(Map<String, String> env) {
        this.secretValues = env.entrySet().stream()
                .filter(e -> isSecretName(e.getKey()) || e.getKey().equals("PORT_CLIENT_ID"))
                .map(Map.Entry::getValue)
                .filter(v -> v != null && v.length() >= MIN_SECRET_LENGTH)
                .distinct()
                .sorted(Comparator.comparingInt(String::length).reversed())
                .toList();
    }

    public static boolean isSecretName(String name) {
        return name != null && SECRET_NAME.matcher(name).matches();
    }

    /** Replaces every known secret value in free text (responses, error messages). */
    public String mask(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String secret : secretValues) {
            out = out.replace(secret, MASK);
        }
        return out;
    }

    public Map<String, String> maskHeaders(Map<String, String> headers) {
        Map<String, String> out = new LinkedHashMap<>();
        headers.forEach((k, v) -> out.put(k, isSecretName(k) ? MASK : mask(v)));
        return out;
    }

    /** A copy of the JSON with secret-named members and known secret values masked. */
    public JsonNode maskJson(JsonNode node) {
        if (node == null) {
            return null;
        }
        if (node instanceof ObjectNode obj) {
            ObjectNode copy = obj.objectNode();
            obj.fields().forEachRemaining(e -> copy.set(e.getKey(),
                    isSecretName(e.getKey()) && !e.getValue().isContainerNode() && !e.getValue().isNull()
                            ? TextNode.valueOf(MASK) : maskJson(e.getValue())));
            return copy;
        }
        if (node instanceof ArrayNode arr) {
            ArrayNode copy = arr.arrayNode();
            arr.forEach(el -> copy.add(maskJson(el)));
            return copy;
        }
        if (node.isTextual()) {
            String masked = mask(node.asText());
            return masked.equals(node.asText()) ? node : TextNode.valueOf(masked);
        }
        return node;
    }
}
