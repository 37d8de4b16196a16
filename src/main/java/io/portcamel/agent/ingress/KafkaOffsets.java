package io.portcamel.agent.ingress;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;

/** Commits the offset of the record being processed, on the consumer thread, once the run is handled. */
public class KafkaOffsets {
    public void commit(Exchange exchange) {
        KafkaManualCommit commit = exchange.getVariable("kafkaCommit", KafkaManualCommit.class);
        if (commit != null) {
            commit.commit();
        }
    }
}
