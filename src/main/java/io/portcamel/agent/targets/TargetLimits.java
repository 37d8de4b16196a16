package io.portcamel.agent.targets;

import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;

import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * TARGET_MAX_CONCURRENCY: at most so many calls in flight to one target host (scheme://host:port), whatever the
 * number of run workers, so a burst of runs cannot flood one CI API. A run takes its host's permit before the first
 * attempt and keeps it through retries and their back-off (a 429 asks for less pressure, not more); the permit is
 * returned when the answer is in, or when the run's exchange ends, whichever comes first.
 *
 * <p>Camel's throttle EIP in ConcurrentRequests mode would do this, but in 4.17 it forgets a key's state 10 s after
 * the last release even while permits are held (CAMEL-24926), and a slow CI API is exactly when the limit matters.
 */
public class TargetLimits {
    private static final String PERMIT = "agentTargetPermit";

    private final int perHost;
    private final Map<String, Semaphore> hosts = new ConcurrentHashMap<>();

    public TargetLimits(int perHost) {
        this.perHost = perHost;
    }

    /** Waits for a permit of the host in {@code CamelHttpUri} (set by {@link TargetCall#prepare}). */
    public void acquire(Exchange exchange) throws InterruptedException {
        String host = hostOf(exchange.getMessage().getHeader(Exchange.HTTP_URI, String.class));
        Semaphore s = hosts.computeIfAbsent(host, h -> new Semaphore(perHost, true));
        s.acquire();
        exchange.setProperty(PERMIT, s);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                release(done);
            }
        });
    }

    /** Returns the permit, if this exchange still holds one. */
    public void release(Exchange exchange) {
        Semaphore s = exchange.removeProperty(PERMIT) instanceof Semaphore held ? held : null;
        if (s != null) {
            s.release();
        }
    }

    static String hostOf(String url) {
        try {
            URI u = URI.create(url);
            String scheme = u.getScheme() == null ? "http" : u.getScheme().toLowerCase(Locale.ROOT);
            int port = u.getPort() >= 0 ? u.getPort() : "https".equals(scheme) ? 443 : 80;
            return scheme + "://" + String.valueOf(u.getHost()).toLowerCase(Locale.ROOT) + ":" + port;
        } catch (IllegalArgumentException e) {
            return String.valueOf(url);
        }
    }
}
