package io.portcamel.agent.security;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Which hosts a target request may go to: TARGET_ALLOWED_HOSTS for all mappings and a mapping's own
 * {@code allowedHosts}; when both are set the host must be in both. Entries are host names, {@code *.example.com}
 * (any subdomain) or {@code host:port}. Why: a mapping's URL is built with jq from user inputs, and an input must
 * never be able to send a CI token to another host.
 */
public final class HostAllowlist {
    private HostAllowlist() { }

    /** Null when the URL may be called; otherwise the reason it may not. */
    public static String refusal(String url, List<String> global, List<String> perMapping) {
        if (global.isEmpty() && perMapping.isEmpty()) {
            return null;
        }
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return "the URL is not valid: " + e.getMessage();
        }
        String host = uri.getHost();
        if (host == null) {
            return "the URL has no host: " + url;
        }
        host = host.toLowerCase(Locale.ROOT);
        int port = uri.getPort();
        if (!global.isEmpty() && !matches(host, port, global)) {
            return "host " + host + " is not in TARGET_ALLOWED_HOSTS " + global;
        }
        if (!perMapping.isEmpty() && !matches(host, port, perMapping)) {
            return "host " + host + " is not in the mapping's allowedHosts " + perMapping;
        }
        return null;
    }

    static boolean matches(String host, int port, List<String> patterns) {
        for (String raw : patterns) {
            String p = raw.trim().toLowerCase(Locale.ROOT);
            int colon = p.lastIndexOf(':');
            if (colon > 0 && p.substring(colon + 1).chars().allMatch(Character::isDigit)) {
                if (port != Integer.parseInt(p.substring(colon + 1))) {
                    continue;
                }
                p = p.substring(0, colon);
            }
            if (p.startsWith("*.") ? host.endsWith(p.substring(1)) : host.equals(p)) {
                return true;
            }
        }
        return false;
    }
}
