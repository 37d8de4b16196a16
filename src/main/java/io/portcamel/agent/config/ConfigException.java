package io.portcamel.agent.config;

/** A setting that stops start-up; its message is the one line the operator sees. */
public class ConfigException extends RuntimeException {
    private final String setting;

    public ConfigException(String setting, String value, String problem) {
        super(setting + (value == null ? " " : "='" + value + "' ") + problem);
        this.setting = setting;
    }

    public ConfigException(String setting, String message, Throwable cause) {
        super(setting + ": " + message, cause);
        this.setting = setting;
    }

    public String setting() {
        return setting;
    }
}
