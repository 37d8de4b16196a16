package io.portcamel.agent.bench;

import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.util.Map;

/**
 * Installed in the agent's own Kafka consumer with {@code camel.component.kafka.interceptor-classes} (a component
 * option, no change to the routes): stamps the moment {@code poll} returns each record to camel-kafka, i.e. the
 * moment the agent has received the run. Costs one map put per record.
 */
public class PollStampInterceptor implements ConsumerInterceptor<Object, Object> {
    @Override
    public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
        long now = System.nanoTime();
        for (ConsumerRecord<Object, Object> r : records) {
            if (r.key() != null) {
                Stamps.POLLED.putIfAbsent(String.valueOf(r.key()), now);
            }
        }
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) { }

    @Override
    public void close() { }

    @Override
    public void configure(Map<String, ?> configs) { }
}
