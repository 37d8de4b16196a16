package io.portcamel.agent.bench;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-run timestamps ({@link System#nanoTime()}, one JVM, so directly comparable), keyed by runId = the Kafka record key.
 * <ul>
 *   <li>{@link #SENT}: just before {@code producer.send} of the run's record;</li>
 *   <li>{@link #POLLED}: when {@code KafkaConsumer.poll} handed the record to the application (the agent: through
 *       {@link PollStampInterceptor}, which kafka-clients calls at the end of {@code poll}; the baseline: right after
 *       its own {@code poll} returns) — "record received";</li>
 *   <li>the sink keeps the third one, "request received" ≈ request sent.</li>
 * </ul>
 */
final class Stamps {
    static final ConcurrentHashMap<String, Long> SENT = new ConcurrentHashMap<>();
    static final ConcurrentHashMap<String, Long> POLLED = new ConcurrentHashMap<>();

    private Stamps() { }
}
