package io.portcamel.agent.ingress;

import com.fasterxml.jackson.databind.JsonNode;

import io.portcamel.agent.config.AgentSettings;
import io.portcamel.agent.port.PortApi;

import org.apache.camel.component.kafka.DefaultKafkaClientFactory;
import org.apache.camel.component.kafka.KafkaConfiguration;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.config.SaslConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Where the Kafka consumer gets its brokers and credentials, as port-agent does: from Port
 * ({@code GET /v1/kafka-credentials}) unless they are given locally (USING_LOCAL_PORT_INSTANCE,
 * KAFKA_CONSUMER_BOOTSTRAP_SERVERS or the legacy KAFKA_CONSUMER_BROKERS/USERNAME/PASSWORD).
 * Resolved when the consumer starts, after the Port API route is up, so no credential sits in a route URI.
 */
public class PortKafkaClientFactory extends DefaultKafkaClientFactory {
    private static final Logger LOG = LoggerFactory.getLogger(PortKafkaClientFactory.class);

    private final AgentSettings settings;
    private final PortApi port;
    private final KafkaOffsets offsets;
    private volatile Credentials credentials;

    record Credentials(String brokers, String username, String password) { }

    public PortKafkaClientFactory(AgentSettings settings, PortApi port, KafkaOffsets offsets) {
        this.settings = settings;
        this.port = port;
        this.offsets = offsets;
    }

    @Override
    public String getBrokers(KafkaConfiguration configuration) {
        return credentials().brokers();
    }

    @Override
    public Consumer getConsumer(Properties props) {
        Credentials c = credentials();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, c.brokers());
        props.put(CommonClientConfigs.GROUP_ID_CONFIG, groupId());
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, settings.kafkaSecurityProtocol());
        if (!"NONE".equals(settings.kafkaAuthenticationMechanism())) {
            props.put(SaslConfigs.SASL_MECHANISM, settings.kafkaAuthenticationMechanism());
            if (!c.username().isEmpty()) {
                String module = settings.kafkaAuthenticationMechanism().startsWith("SCRAM")
                        ? "org.apache.kafka.common.security.scram.ScramLoginModule"
                        : "org.apache.kafka.common.security.plain.PlainLoginModule";
                props.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + jaas(c.username())
                        + "\" password=\"" + jaas(c.password()) + "\";");
            }
        }
        // runs are handled concurrently; offsets are committed in order, from the consumer's thread
        return CommittingConsumer.wrap(super.getConsumer(props), offsets);
    }

    /** The consumer group: KAFKA_CONSUMER_GROUP_ID, else the Port-issued username, else {ORG_ID}.port-camel-agent. */
    public String groupId() {
        if (!settings.kafkaGroupId().isBlank()) {
            return settings.kafkaGroupId();
        }
        Credentials c = credentials();
        return c.username().isEmpty() ? settings.orgId() + ".port-camel-agent" : c.username();
    }

    synchronized Credentials credentials() {
        if (credentials == null) {
            if (settings.kafkaBrokersGivenLocally()) {
                String brokers = settings.kafkaBootstrapServers().isBlank() ? "localhost:9092" : settings.kafkaBootstrapServers();
                credentials = new Credentials(brokers, settings.kafkaUsername(), settings.kafkaPassword());
            } else {
                JsonNode c = port.kafkaCredentials();
                List<String> brokers = new ArrayList<>();
                c.path("brokers").forEach(b -> brokers.add(b.asText()));
                if (brokers.isEmpty()) {
                    throw new IllegalStateException("Port's /v1/kafka-credentials returned no brokers");
                }
                credentials = new Credentials(String.join(",", brokers), c.path("username").asText(""), c.path("password").asText(""));
                LOG.info("Kafka brokers from Port: {} (user {})", credentials.brokers(), credentials.username());
            }
        }
        return credentials;
    }

    private static String jaas(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
