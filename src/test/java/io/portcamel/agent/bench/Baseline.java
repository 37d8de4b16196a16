package io.portcamel.agent.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bare baseline: a plain kafka-clients poll loop feeding the JDK HttpClient — POST of the record value to the
 * sink, at most {@code concurrency} requests in flight (1 = the agent's model today: one run at a time per
 * partition, the next record only after the answer). No parsing, signature check, mapping, store or reporting.
 * Offsets are committed asynchronously once per poll batch (the agent commits synchronously after every run).
 */
final class Baseline implements AutoCloseable {
    private final KafkaConsumer<String, String> consumer;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final URI target;
    private final int concurrency;
    private final Semaphore inFlight;
    private final CountDownLatch assigned = new CountDownLatch(1);
    private final AtomicInteger errors = new AtomicInteger();
    private final Thread thread;
    private volatile boolean running = true;

    Baseline(String bootstrap, String topic, String group, String targetUrl, int concurrency) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
        consumer.subscribe(List.of(topic));
        this.target = URI.create(targetUrl);
        this.concurrency = concurrency;
        this.inFlight = new Semaphore(concurrency);
        thread = new Thread(this::loop, "baseline-c" + concurrency);
        thread.setDaemon(true);
        thread.start();
    }

    /** Waits until the consumer holds its partition. */
    boolean awaitAssigned(long timeoutMillis) throws InterruptedException {
        return assigned.await(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    int errors() {
        return errors.get();
    }

    private void loop() {
        try {
            while (running) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
                long now = System.nanoTime();
                if (!consumer.assignment().isEmpty()) {
                    assigned.countDown();
                }
                if (records.isEmpty()) {
                    continue;
                }
                for (ConsumerRecord<String, String> r : records) {
                    Stamps.POLLED.putIfAbsent(r.key(), now);
                }
                for (ConsumerRecord<String, String> r : records) {
                    HttpRequest req = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(r.value())).build();
                    if (concurrency == 1) {
                        try {
                            HttpResponse<Void> res = http.send(req, HttpResponse.BodyHandlers.discarding());
                            if (res.statusCode() != 200) errors.incrementAndGet();
                        } catch (java.io.IOException e) {
                            errors.incrementAndGet();
                        }
                    } else {
                        inFlight.acquire();
                        http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((res, err) -> {
                            if (err != null || res.statusCode() != 200) errors.incrementAndGet();
                            inFlight.release();
                        });
                    }
                }
                consumer.commitAsync();
            }
        } catch (WakeupException | InterruptedException stop) {
            // closing
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(10_000);
    }
}
