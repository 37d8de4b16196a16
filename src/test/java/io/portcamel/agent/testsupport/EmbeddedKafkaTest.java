package io.portcamel.agent.testsupport;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedKafkaTest {

    @Test
    void sendConsumeAndCommittedOffset() {
        EmbeddedKafka kafka = EmbeddedKafka.shared();
        System.out.println("EmbeddedKafka started in " + kafka.startupMillis() + " ms at " + kafka.bootstrapServers());
        assertSame(kafka, EmbeddedKafka.shared(), "one broker per JVM");

        String topic = "org_test.runs." + System.nanoTime();
        String group = "org_test.agent-" + System.nanoTime();
        kafka.createTopic(topic, 2);
        kafka.createTopic(topic, 2); // idempotent
        RecordMetadata m1 = kafka.send(topic, "k", "{\"n\":1}");
        RecordMetadata m2 = kafka.send(topic, "k", "{\"n\":2}"); // same key, same partition
        assertEquals(m1.partition(), m2.partition());
        assertEquals(m1.offset() + 1, m2.offset());
        assertEquals(-1, kafka.committedOffset(group, topic, m1.partition()), "nothing committed yet");

        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 20_000;
            while (got.size() < 2 && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            assertEquals(2, got.size());
            assertEquals("{\"n\":1}", got.get(0).value());
            assertEquals("k", got.get(0).key());
            consumer.commitSync();
        }
        assertEquals(m2.offset() + 1, kafka.committedOffset(group, topic, m1.partition()));
        assertEquals(0, kafka.committedOffset(group, topic, 1 - m1.partition()), "commitSync stores the empty partition's position too");
        assertEquals(-1, kafka.committedOffset("unknown-group", topic, m1.partition()));
        assertEquals(2, kafka.admin().describeTopics(List.of(topic)).allTopicNames().toCompletionStage()
                .toCompletableFuture().join().get(topic).partitions().size());

        kafka.close(); // no-op for the shared broker
        assertTrue(kafka.send(topic, "k", "{\"n\":3}").offset() > m2.offset(), "shared broker survives close()");
    }

    @Test
    void privateBrokerUsesItsDefaultPartitionCountForAutoCreatedTopics() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(3)) {
            System.out.println("private EmbeddedKafka started in " + kafka.startupMillis() + " ms");
            kafka.send("auto.created", null, "x"); // auto.create.topics.enable
            int partitions = kafka.admin().describeTopics(List.of("auto.created")).allTopicNames()
                    .get(10, java.util.concurrent.TimeUnit.SECONDS).get("auto.created").partitions().size();
            assertEquals(3, partitions);
        }
    }
}
