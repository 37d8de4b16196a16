package io.portcamel.agent.ops;

import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpEngine;

/**
 * Camel's platform-http engine, told which server the routes' {@code platform-http:} endpoints belong to. With the
 * management server enabled there are two Vert.x servers, and Camel 4.17's engine — which looks for "the single
 * server" — falls back to port 8080, so with AGENT_HTTP_PORT≠8080 every platform-http route fails to start ("No
 * PlatformHttpEngine created and setup in registry with name: platform-http-router-8080"). Bound as
 * {@code platform-http-engine}, the registry name PlatformHttpComponent looks up first.
 */
public class MainServerHttpEngine extends VertxPlatformHttpEngine {
    /** The registry name PlatformHttpComponent looks up. */
    public static final String BEAN = "platform-http-engine";

    @Override
    public int getServerPort() {
        try {
            int port = getCamelContext().getPropertiesComponent().resolveProperty("camel.server.port")
                    .map(String::trim).map(Integer::parseInt).orElse(0);
            if (port > 0) {
                return port;
            }
        } catch (RuntimeException unreadable) {
            // Camel's own lookup below
        }
        return super.getServerPort();
    }
}
