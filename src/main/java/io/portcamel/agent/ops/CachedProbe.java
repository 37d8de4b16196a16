package io.portcamel.agent.ops;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A check that may be slow or costly (a database round trip, a Port token request), run at most once per
 * {@code ttl} on a worker thread. Callers (health checks answered on the management server's event loop, the metrics
 * scrape) get the last result at once; a stale one triggers a refresh in the background. Only the very first call
 * waits, briefly, for a result.
 */
final class CachedProbe<T> {
    private static final Logger LOG = LoggerFactory.getLogger(CachedProbe.class);

    /** A probe's answer and when it was taken. */
    record Result<T>(T value, Instant at) { }

    private final String name;
    private final Duration ttl;
    private final Duration failureTtl;
    private final java.util.function.Predicate<T> healthy;
    private final Clock clock;
    private final Supplier<T> probe;
    private final ExecutorService executor;
    private volatile Result<T> last;
    private CompletableFuture<Result<T>> running;

    CachedProbe(String name, Duration ttl, Clock clock, Supplier<T> probe, ExecutorService executor) {
        this(name, ttl, ttl, v -> true, clock, probe, executor);
    }

    /** A bad result ({@code healthy} false) is kept only {@code failureTtl}, so a recovery shows up sooner. */
    CachedProbe(String name, Duration ttl, Duration failureTtl, java.util.function.Predicate<T> healthy, Clock clock,
                Supplier<T> probe, ExecutorService executor) {
        this.name = name;
        this.ttl = ttl;
        this.failureTtl = failureTtl.compareTo(ttl) < 0 ? failureTtl : ttl;
        this.healthy = healthy;
        this.clock = clock;
        this.probe = probe;
        this.executor = executor;
    }

    /** The last result (refreshing it in the background when older than the ttl); null before the first one. */
    Result<T> get(Duration firstWait) {
        Result<T> r = last;
        if (r != null && Duration.between(r.at(), clock.instant()).compareTo(healthy.test(r.value()) ? ttl : failureTtl) < 0) {
            return r;
        }
        CompletableFuture<Result<T>> f = refresh();
        if (r == null && f != null && !firstWait.isZero()) {
            try {
                return f.get(firstWait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception notYet) {
                return last;
            }
        }
        return r;
    }

    /** The last result without triggering anything. */
    Result<T> peek() {
        return last;
    }

    private synchronized CompletableFuture<Result<T>> refresh() {
        if (running != null && !running.isDone()) {
            return running;
        }
        try {
            running = CompletableFuture.supplyAsync(() -> {
                Result<T> r = new Result<>(probe.get(), clock.instant());
                last = r;
                return r;
            }, executor);
            running.exceptionally(e -> {
                LOG.debug("health probe {} failed: {}", name, e.toString());
                return null;
            });
            return running;
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            return null; // the context is shutting down
        }
    }
}
