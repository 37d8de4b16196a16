package io.portcamel.agent;

import java.net.URI;
import java.util.Map;

/**
 * HTTP(S)_PROXY and NO_PROXY (honoured by port-agent through requests) as the JVM's proxy properties, which
 * camel-http's client reads with {@code useSystemProperties=true}.
 */
final class Proxies {
    private Proxies() { }

    static void toSystemProperties(Map<String, String> env) {
        set("https", first(env, "HTTPS_PROXY", "https_proxy"));
        set("http", first(env, "HTTP_PROXY", "http_proxy"));
        String noProxy = first(env, "NO_PROXY", "no_proxy");
        if (noProxy != null && !noProxy.isBlank()) {
            // NO_PROXY "a.com,.b.com" → nonProxyHosts "a.com|*.b.com"
            StringBuilder hosts = new StringBuilder();
            for (String h : noProxy.split(",")) {
                h = h.trim();
                if (h.isEmpty()) continue;
                if (hosts.length() > 0) hosts.append('|');
                hosts.append(h.startsWith(".") ? "*" + h : h);
            }
            System.setProperty("http.nonProxyHosts", hosts.toString());
        }
    }

    private static void set(String scheme, String proxy) {
        if (proxy == null || proxy.isBlank()) {
            return;
        }
        URI uri = URI.create(proxy.contains("://") ? proxy : "http://" + proxy);
        System.setProperty(scheme + ".proxyHost", uri.getHost());
        System.setProperty(scheme + ".proxyPort", String.valueOf(uri.getPort() > 0 ? uri.getPort() : 8080));
    }

    private static String first(Map<String, String> env, String a, String b) {
        return env.getOrDefault(a, env.get(b));
    }
}
