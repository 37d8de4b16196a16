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
    /**
     * In the agent as its own process ({@code -Dbench.stampFile=…}): the stamps go to that file, "key nanos" a line —
     * System.nanoTime is CLOCK_MONOTONIC on Linux, the same clock in every process of the machine.
     */
    private static final java.io.PrintWriter FILE = open(System.getProperty("bench.stampFile"));

    private static java.io.PrintWriter open(String path) {
        try {
            return path == null ? null : new java.io.PrintWriter(new java.io.FileWriter(path, true));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
        long now = System.nanoTime();
        for (ConsumerRecord<Object, Object> r : records) {
            if (r.key() != null) {
                if (FILE != null) {
                    FILE.println(r.key() + " " + now);
                } else {
                    Stamps.POLLED.putIfAbsent(String.valueOf(r.key()), now);
                }
            }
        }
        if (FILE != null) {
            FILE.flush();
        }
        return records;
    }

    /** The bench JVM: the stamps the agent process wrote so far. */
    static void loadStamps(java.nio.file.Path file) throws java.io.IOException {
        if (!java.nio.file.Files.exists(file)) {
            return;
        }
        for (String line : java.nio.file.Files.readAllLines(file)) {
            int sp = line.lastIndexOf(' ');
            if (sp > 0) {
                Stamps.POLLED.putIfAbsent(line.substring(0, sp), Long.parseLong(line.substring(sp + 1)));
            }
        }
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) { }

    @Override
    public void close() { }

    @Override
    public void configure(Map<String, ?> configs) { }
}
