package io.portcamel.agent.ops;

import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.spi.CamelEvent.ExchangeRedeliveryEvent;
import org.apache.camel.support.SimpleEventNotifierSupport;

import java.util.Set;

/**
 * Counts the redeliveries Camel's error handler makes in the Port routes (routes/port-api.camel.yaml: 429, 5xx and
 * I/O errors re-sent with back-off) into {@code port_agent_port_retries_total{reason="redelivery"}}.
 */
public class PortRedeliveries extends SimpleEventNotifierSupport {
    static final Set<String> PORT_ROUTES = Set.of("port-api", "port-token");

    private final AgentMetrics metrics;

    public PortRedeliveries(AgentMetrics metrics) {
        this.metrics = metrics;
        setupIgnore(true);
        setIgnoreExchangeEvents(false);
        setIgnoreExchangeRedeliveryEvents(false);
        // Camel 4.17 skips redelivery events for notifiers that ignore failed-exchange events (EventHelper)
        setIgnoreExchangeFailedEvents(false);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof ExchangeRedeliveryEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (event instanceof ExchangeRedeliveryEvent e && PORT_ROUTES.contains(routeId(e.getExchange()))) {
            metrics.portRetry("redelivery");
        }
    }

    private static String routeId(Exchange exchange) {
        Route route = exchange.getUnitOfWork() == null ? null : exchange.getUnitOfWork().getRoute();
        return route != null ? route.getRouteId() : exchange.getFromRouteId();
    }
}
