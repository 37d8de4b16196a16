package io.portcamel.agent.ingress;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commit point of a partition never passes a record still in flight, whatever order the runs finish in. */
class KafkaOffsetsTest {
    private static final TopicPartition P0 = new TopicPartition("org.runs", 0);
    private final CamelContext camel = new DefaultCamelContext();
    private final KafkaOffsets offsets = new KafkaOffsets();

    private Exchange record(long offset) {
        Exchange e = new DefaultExchange(camel);
        e.getMessage().setHeader(KafkaConstants.TOPIC, P0.topic());
        e.getMessage().setHeader(KafkaConstants.PARTITION, P0.partition());
        e.getMessage().setHeader(KafkaConstants.OFFSET, offset);
        offsets.begin(e);
        return e;
    }

    private Long due() {
        Map<TopicPartition, OffsetAndMetadata> due = offsets.due(null);
        return due.containsKey(P0) ? due.get(P0).offset() : null;
    }

    @Test
    void theCommitPointIsTheLowestRecordStillInFlight() {
        Exchange r10 = record(10);
        Exchange r11 = record(11);
        Exchange r12 = record(12);
        assertEquals(3, offsets.inFlight());
        offsets.end(r12);
        offsets.end(r11);
        assertEquals(10L, due(), "10 is not finished: the commit may not pass it");
        offsets.end(r10);
        assertEquals(13L, due(), "all finished: the next record to read is 13");
        assertEquals(null, due(), "handed out once");
        Exchange r13 = record(13);
        Exchange r14 = record(14);
        offsets.end(r13);
        assertEquals(14L, due());
        offsets.end(r14);
        assertEquals(15L, due());
        assertEquals(0, offsets.inFlight());
    }

    @Test
    void aFailedCommitIsDueAgainAndAnEndAfterRevocationChangesNothing() {
        Exchange r0 = record(0);
        Exchange r1 = record(1);
        offsets.end(r0);
        assertEquals(1L, due());
        offsets.commitFailed(Map.of(P0, new OffsetAndMetadata(1)));
        assertEquals(1L, due(), "retried at the next poll");
        offsets.forget(List.of(P0));
        offsets.end(r1); // the run finished after its partition went to another consumer
        assertEquals(null, due());
        assertEquals(0, offsets.inFlight());
        Exchange again = record(1); // re-read after the partition came back
        offsets.end(again);
        assertEquals(2L, due());
    }

    @Test
    void endingTwiceCountsOnce() {
        Exchange r5 = record(5);
        Exchange r6 = record(6);
        offsets.end(r6);
        offsets.end(r6);
        assertEquals(5L, due(), "5 is still in flight");
        assertTrue(offsets.inFlight() == 1);
        offsets.end(r5);
        assertEquals(7L, due());
    }
}
