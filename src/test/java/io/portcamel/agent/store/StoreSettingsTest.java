package io.portcamel.agent.store;

import io.portcamel.agent.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StoreSettingsTest {

    @Test
    void defaultsToADurableH2File() {
        StoreSettings s = StoreSettings.from(Map.of("HOSTNAME", "agent-7f9c"));
        assertEquals(StoreSettings.DEFAULT_JDBC_URL, s.jdbcUrl());
        assertTrue(s.jdbcUrl().startsWith("jdbc:h2:file:./data/port-camel-agent;AUTO_SERVER=FALSE;"));
        assertTrue(s.jdbcUrl().contains(";WRITE_DELAY=0"));
        assertFalse(s.jdbcUrl().contains("DB_CLOSE_DELAY"));
        assertEquals("h2", s.dialect());
        assertNull(s.user());
        assertNull(s.password());
        assertEquals(50, s.batchSize());
        assertEquals(60, s.leaseSeconds());
        assertEquals(4, s.poolSize());
        assertTrue(s.replicaId().matches("agent-7f9c-" + ProcessHandle.current().pid() + "-[0-9a-f]{8}"), s.replicaId());
    }

    @Test
    void readsEverySettingAndTreatsBlankAsUnset() {
        StoreSettings s = StoreSettings.from(Map.of("TRACKING_JDBC_URL", "jdbc:postgresql://db:5432/agent", "TRACKING_JDBC_USER", "agent",
                "TRACKING_JDBC_PASSWORD", "hunter2", "TRACKING_BATCH_SIZE", "20", "TRACKING_LEASE_SECONDS", " 120 ",
                "TRACKING_POOL_SIZE", ""));
        assertEquals("postgresql", s.dialect());
        assertEquals("agent", s.user());
        assertEquals("hunter2", s.password());
        assertEquals(20, s.batchSize());
        assertEquals(120, s.leaseSeconds());
        assertEquals(4, s.poolSize());
        assertFalse(s.toString().contains("hunter2"), s.toString());
    }

    @Test
    void everyProcessGetsItsOwnReplicaId() {
        assertNotEquals(StoreSettings.from(Map.of()).replicaId(), StoreSettings.from(Map.of()).replicaId());
    }

    @Test
    void invalidValuesNameTheSettingAndNeverShowAPassword() {
        assertProblem("TRACKING_BATCH_SIZE", "0");
        assertProblem("TRACKING_BATCH_SIZE", "many");
        assertProblem("TRACKING_LEASE_SECONDS", "1");
        assertProblem("TRACKING_POOL_SIZE", "65");
        assertProblem("TRACKING_POOL_SIZE", "2.5");
        ConfigException e = assertThrows(ConfigException.class,
                () -> StoreSettings.from(Map.of("TRACKING_JDBC_URL", "jdbc:mysql://db/agent?user=a&password=hunter2")));
        assertEquals("TRACKING_JDBC_URL", e.setting());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertTrue(e.getMessage().contains("password=***"), e.getMessage());
        assertEquals("jdbc:postgresql://db/x?user=a&password=***&ssl=true",
                StoreSettings.maskUrl("jdbc:postgresql://db/x?user=a&password=p@ss&ssl=true"));
    }

    private static void assertProblem(String setting, String value) {
        ConfigException e = assertThrows(ConfigException.class, () -> StoreSettings.from(Map.of(setting, value)));
        assertEquals(setting, e.setting());
        assertTrue(e.getMessage().contains(value), e.getMessage());
    }
}
