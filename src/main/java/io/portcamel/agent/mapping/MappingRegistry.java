package io.portcamel.agent.mapping;

import net.thisptr.jackson.jq.Scope;

import java.nio.file.Path;

/**
 * The mapping file in force. Loaded (and fully validated) at start-up; {@link #reload()} swaps in a new version
 * only when it is valid, so an invalid edit never replaces a working one.
 */
public class MappingRegistry {
    private final Path file;
    private final Scope scope;
    private volatile MappingSet current;

    public MappingRegistry(Path file, Scope scope) throws MappingException {
        this.file = file;
        this.scope = scope;
        this.current = MappingSet.load(file, scope);
    }

    public MappingSet current() {
        return current;
    }

    /** The file name as users know it, for messages. */
    public String source() {
        return file.getFileName().toString();
    }

    public Path file() {
        return file;
    }

    /** Loads the file again; keeps the previous version and throws when the new one is invalid. */
    public synchronized MappingSet reload() throws MappingException {
        MappingSet next = MappingSet.load(file, scope);
        current = next;
        return next;
    }
}
