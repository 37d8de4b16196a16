package io.portcamel.agent.ingress;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;

/**
 * The Kafka consumer Camel polls with, wrapped so that {@link KafkaOffsets}' commit points reach the broker from the
 * consumer's own thread (KafkaConsumer is not thread-safe, and run workers finish on other threads): before every
 * poll (async, in order), when partitions are revoked (sync, so the next owner starts after what is done here) and
 * on close (sync). Everything else goes straight to the real consumer.
 */
final class CommittingConsumer implements InvocationHandler {
    private static final Logger LOG = LoggerFactory.getLogger(CommittingConsumer.class);
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(10);

    private final Consumer<?, ?> delegate;
    private final KafkaOffsets offsets;

    private CommittingConsumer(Consumer<?, ?> delegate, KafkaOffsets offsets) {
        this.delegate = delegate;
        this.offsets = offsets;
    }

    @SuppressWarnings("rawtypes")
    static Consumer wrap(Consumer<?, ?> consumer, KafkaOffsets offsets) {
        return (Consumer) Proxy.newProxyInstance(CommittingConsumer.class.getClassLoader(), new Class<?>[] {Consumer.class},
                new CommittingConsumer(consumer, offsets));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        switch (method.getName()) {
            case "poll" -> commitAsync();
            case "close" -> commitSync(null);
            case "subscribe" -> {
                // Camel subscribes with its own rebalance listener: commit what is done before it sees a revocation
                for (int i = 0; args != null && i < args.length; i++) {
                    if (args[i] instanceof ConsumerRebalanceListener l) {
                        args[i] = new Rebalance(l);
                    }
                }
            }
            default -> { }
        }
        try {
            return method.invoke(delegate, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private void commitAsync() {
        Map<TopicPartition, OffsetAndMetadata> due = offsets.due(null);
        if (!due.isEmpty()) {
            delegate.commitAsync(due, (committed, error) -> {
                if (error != null) {
                    LOG.warn("Kafka offsets {} not committed ({}); they are committed again at the next poll", committed, error.toString());
                    offsets.commitFailed(due);
                }
            });
        }
    }

    private void commitSync(Collection<TopicPartition> only) {
        Map<TopicPartition, OffsetAndMetadata> due = offsets.due(only);
        if (due.isEmpty()) {
            return;
        }
        try {
            delegate.commitSync(due, SYNC_TIMEOUT);
        } catch (RuntimeException e) {
            // the records after the last commit are read again by the next owner; the store makes them duplicates
            LOG.warn("Kafka offsets {} not committed ({}); the next owner of these partitions re-reads from the last commit", due, e.toString());
            offsets.commitFailed(due);
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        private final ConsumerRebalanceListener camel;

        Rebalance(ConsumerRebalanceListener camel) {
            this.camel = camel;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            commitSync(partitions);
            offsets.forget(partitions);
            camel.onPartitionsRevoked(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            camel.onPartitionsAssigned(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            offsets.forget(partitions);
            camel.onPartitionsLost(partitions);
        }
    }
}
