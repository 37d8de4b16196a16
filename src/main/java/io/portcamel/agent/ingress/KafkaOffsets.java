package io.portcamel.agent.ingress;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * In-order offset commits for runs handled concurrently. The consumer thread {@link #begin begins} each record before
 * handing it to the run workers; a worker {@link #end ends} it once the run is handled (dispatched or failed, and its
 * outcome in the store). A partition's commit point is its lowest record still in flight — never past a run that is
 * not finished — so a crash or a rebalance re-reads only unfinished (or finished but not yet committed) records, and
 * the store's accepted_run table makes those re-reads duplicates, not second triggers.
 *
 * <p>Commits are made on the consumer thread by {@link CommittingConsumer} (KafkaConsumer is single-threaded), at every
 * poll, on revocation and on close.
 */
public class KafkaOffsets {
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();

    /** Consumer thread: the record is taken; its offset holds the partition's commit point until it ends. */
    public void begin(Exchange exchange) {
        TopicPartition tp = new TopicPartition(exchange.getMessage().getHeader(KafkaConstants.TOPIC, String.class),
                exchange.getMessage().getHeader(KafkaConstants.PARTITION, Integer.class));
        long offset = exchange.getMessage().getHeader(KafkaConstants.OFFSET, Long.class);
        Partition p = partitions.computeIfAbsent(tp, Partition::new);
        p.begin(offset);
        // the ticket names this partition's state as it is now: after a revocation a late end() changes nothing
        exchange.setVariable("kafkaTicket", new Ticket(p, offset));
    }

    /**
     * Run worker, first step: the record ends when the worker's exchange is done — whatever route step it stopped at
     * (a failure the dispatch handled stops the routing there). An exchange that failed (e.g. the agent stopped while
     * the store was down) does not end its record: it stays uncommitted and is read again.
     */
    public void endWhenDone(Exchange exchange) {
        exchange.getExchangeExtension().addOnCompletion(new org.apache.camel.support.SynchronizationAdapter() {
            @Override
            public void onComplete(Exchange done) {
                end(done);
            }
        });
    }

    /** The record is handled; the commit point may move past it. */
    public void end(Exchange exchange) {
        Ticket t = exchange.getVariable("kafkaTicket", Ticket.class);
        if (t != null) {
            exchange.removeVariable("kafkaTicket");
            t.partition().end(t.offset());
        }
    }

    /** Records taken and not yet ended, over all partitions. */
    public int inFlight() {
        return partitions.values().stream().mapToInt(Partition::inFlight).sum();
    }

    /** Offsets (next record to read) whose commit point moved since they were last handed out. */
    Map<TopicPartition, OffsetAndMetadata> due(Collection<TopicPartition> only) {
        Map<TopicPartition, OffsetAndMetadata> due = new HashMap<>();
        partitions.forEach((tp, p) -> {
            if (only == null || only.contains(tp)) {
                long next = p.takeDue();
                if (next >= 0) {
                    due.put(tp, new OffsetAndMetadata(next));
                }
            }
        });
        return due;
    }

    /** A commit failed: these offsets are due again at the next poll. */
    void commitFailed(Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((tp, o) -> {
            Partition p = partitions.get(tp);
            if (p != null) {
                p.unsend(o.offset());
            }
        });
    }

    /** The partitions went to another consumer (or were lost): their state is dropped, the new owner re-reads. */
    void forget(Collection<TopicPartition> gone) {
        gone.forEach(partitions::remove);
    }

    record Ticket(Partition partition, long offset) { }

    static final class Partition {
        private final TopicPartition tp;
        /** offset → how many times it is in flight (a re-read record can overlap its first reading) */
        private final TreeMap<Long, Integer> inFlight = new TreeMap<>();
        private long highestEnded = -1;
        private long lastHandedOut = -1;

        Partition(TopicPartition tp) {
            this.tp = tp;
        }

        synchronized void begin(long offset) {
            inFlight.merge(offset, 1, Integer::sum);
        }

        synchronized void end(long offset) {
            inFlight.computeIfPresent(offset, (k, n) -> n == 1 ? null : n - 1);
            highestEnded = Math.max(highestEnded, offset);
        }

        synchronized int inFlight() {
            return inFlight.values().stream().mapToInt(Integer::intValue).sum();
        }

        /** The next offset to commit if it moved since the last call, else -1. */
        synchronized long takeDue() {
            long point = inFlight.isEmpty() ? highestEnded + 1 : Math.min(inFlight.firstKey(), highestEnded + 1);
            if (point <= lastHandedOut || point <= 0) {
                return -1;
            }
            lastHandedOut = point;
            return point;
        }

        synchronized void unsend(long offset) {
            if (lastHandedOut == offset) {
                lastHandedOut = -1;
            }
        }

        @Override
        public String toString() {
            return tp.toString();
        }
    }
}
