package io.portcamel.agent.testsupport;

import kafka.testkit.KafkaClusterTestKit;
import kafka.testkit.TestKitNodes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A real single-node KRaft Kafka (combined broker+controller) inside the test JVM, so Kafka tests
 * need no Docker. Plain listener on localhost; internal topics use replication factor 1 and a
 * single offsets partition to start fast.
 *
 * <p>Starting costs several seconds, so test classes should normally use {@link #shared()}
 * (one broker per JVM, closed by a shutdown hook) and isolate themselves with unique topic and
 * group names; {@link #start()} gives a private broker for tests that must stop it.
 *
 * <p>Broker logging is turned down to WARN via slf4j-simple system properties unless already set
 * (e.g. {@code -Dorg.slf4j.simpleLogger.log.kafka=info} to debug).
 */
public final class EmbeddedKafka implements AutoCloseable {

    static {
        for (String logger : List.of("kafka", "state.change.logger", "org.apache.kafka", "org.apache.zookeeper")) {
            String key = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(key) == null) {
                System.setProperty(key, "warn");
            }
        }
    }

    private static EmbeddedKafka shared;

    private final KafkaClusterTestKit cluster;
    private final boolean isShared;
    private final long startupMillis;
    private Admin admin;
    private KafkaProducer<String, String> producer;
    private boolean closed;

    private EmbeddedKafka(KafkaClusterTestKit cluster, boolean isShared, long startupMillis) {
        this.cluster = cluster;
        this.isShared = isShared;
        this.startupMillis = startupMillis;
    }

    /** A private broker whose auto-created topics have 1 partition. */
    public static EmbeddedKafka start() {
        return start(1);
    }

    /** A private broker; {@code partitions} is {@code num.partitions} for auto-created topics. */
    public static EmbeddedKafka start(int partitions) {
        return start(partitions, false);
    }

    /**
     * The JVM-wide broker (1 partition by default), started on first use and stopped at JVM exit.
     * Its {@link #close()} is a no-op so try-with-resources cannot break other test classes.
     */
    public static synchronized EmbeddedKafka shared() {
        if (shared == null) {
            EmbeddedKafka k = start(1, true);
            Runtime.getRuntime().addShutdownHook(new Thread(k::shutdown, "embedded-kafka-shutdown"));
            shared = k;
        }
        return shared;
    }

    private static EmbeddedKafka start(int partitions, boolean isShared) {
        long t0 = System.nanoTime();
        KafkaClusterTestKit cluster = null;
        try {
            TestKitNodes nodes = new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build();
            cluster = new KafkaClusterTestKit.Builder(nodes)
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "1")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("transaction.state.log.num.partitions", "1")
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .setConfigProp("num.partitions", String.valueOf(partitions))
                    .setConfigProp("auto.create.topics.enable", "true")
                    .build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new EmbeddedKafka(cluster, isShared, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        } catch (Exception e) {
            if (cluster != null) {
                try {
                    cluster.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw new IllegalStateException("embedded Kafka failed to start", e);
        }
    }

    /** {@code host:port} of the plaintext listener, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** How long {@code format + startup + waitForReadyBrokers} took. */
    public long startupMillis() {
        return startupMillis;
    }

    /** Creates a topic (replication factor 1); an existing topic is left as it is. */
    public void createTopic(String name, int partitions) {
        try {
            admin().createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + name, e.getCause());
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + name, e);
        }
    }

    /** Sends one record and waits for the broker's acknowledgement (acks=all). */
    public RecordMetadata send(String topic, String key, String value) {
        try {
            return producer().send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot send to " + topic, e);
        }
    }

    /** The group's committed offset (the next offset it will read) for a partition, or -1 if none. */
    public long committedOffset(String groupId, String topic, int partition) {
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin().listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            OffsetAndMetadata om = offsets.get(new TopicPartition(topic, partition));
            return om == null ? -1 : om.offset();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read offsets of group " + groupId, e);
        }
    }

    /** An Admin client bound to this broker (owned by this object; do not close it). */
    public synchronized Admin admin() {
        if (admin == null) {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            admin = Admin.create(p);
        }
        return admin;
    }

    private synchronized KafkaProducer<String, String> producer() {
        if (producer == null) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        }
        return producer;
    }

    /** Stops a private broker; does nothing for {@link #shared()} (its shutdown hook stops it). */
    @Override
    public void close() {
        if (!isShared) {
            shutdown();
        }
    }

    private synchronized void shutdown() {
        if (closed) {
            return;
        }
        closed = true;
        if (producer != null) {
            producer.close(java.time.Duration.ofSeconds(5));
        }
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(5));
        }
        try {
            cluster.close();
        } catch (Exception e) {
            throw new IllegalStateException("embedded Kafka failed to stop cleanly", e);
        }
    }
}
