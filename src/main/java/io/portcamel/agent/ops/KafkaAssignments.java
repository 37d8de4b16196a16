package io.portcamel.agent.ops;

import org.apache.camel.component.kafka.consumer.support.subcription.DefaultSubscribeAdapter;
import org.apache.camel.component.kafka.consumer.support.subcription.SubscribeAdapter;
import org.apache.camel.component.kafka.consumer.support.subcription.TopicInfo;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.common.TopicPartition;

import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Knows which partitions the agent's Kafka consumer holds. camel-kafka subscribes through the registry bean named
 * {@code subscribeAdapter} when there is one; this one subscribes exactly like Camel's default and listens to the
 * group's rebalances on the side (Camel's own rebalance listener still gets every call first). The readiness check
 * reads it: a consumer connected to the brokers but holding no partition (still joining the group, or one replica
 * too many for the partitions) receives no runs.
 */
public class KafkaAssignments implements SubscribeAdapter {
    /** The registry name camel-kafka looks up (KafkaConstants.KAFKA_SUBSCRIBE_ADAPTER). */
    public static final String BEAN = "subscribeAdapter";

    private final SubscribeAdapter delegate = new DefaultSubscribeAdapter();
    private final Set<TopicPartition> assigned = ConcurrentHashMap.newKeySet();
    private final Clock clock;
    private volatile Instant lastRebalance;
    private volatile boolean subscribed;

    public KafkaAssignments(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void subscribe(Consumer<?, ?> consumer, ConsumerRebalanceListener camelListener, TopicInfo topicInfo) {
        // a new consumer (first start or a reconnect) starts without partitions
        assigned.clear();
        subscribed = true;
        delegate.subscribe(consumer, new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                camelListener.onPartitionsRevoked(partitions);
                assigned.removeAll(partitions);
                lastRebalance = clock.instant();
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                camelListener.onPartitionsAssigned(partitions);
                assigned.addAll(partitions);
                lastRebalance = clock.instant();
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                camelListener.onPartitionsLost(partitions);
                assigned.removeAll(partitions);
                lastRebalance = clock.instant();
            }
        }, topicInfo);
    }

    /** The partitions held now, as "topic-partition", sorted. */
    public Set<String> assigned() {
        Set<String> names = new TreeSet<>();
        assigned.forEach(tp -> names.add(tp.toString()));
        return names;
    }

    public boolean subscribed() {
        return subscribed;
    }

    public Instant lastRebalance() {
        return lastRebalance;
    }
}
