package io.portcamel.agent.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** port-agent (pydantic) also reads a {@code .env} file; the process environment wins over it. */
public final class DotEnv {
    private DotEnv() { }

    public static Map<String, String> environment(Path dotEnv) {
        Map<String, String> env = new HashMap<>(parse(dotEnv));
        env.putAll(System.getenv());
        return env;
    }

    static Map<String, String> parse(Path file) {
        Map<String, String> out = new HashMap<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#")) continue;
                if (l.startsWith("export ")) l = l.substring(7).strip();
                int eq = l.indexOf('=');
                if (eq <= 0) continue;
                String value = l.substring(eq + 1).strip();
                if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"") || value.startsWith("'") && value.endsWith("'"))) {
                    value = value.substring(1, value.length() - 1);
                }
                out.put(l.substring(0, eq).strip(), value);
            }
        } catch (IOException e) {
            throw new ConfigException(".env", "cannot be read: " + e.getMessage(), e);
        }
        return out;
    }
}
