package org.savevm.api.qmp;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/** One QMP command. */
@ConsumerType
@FunctionalInterface
public interface QmpHandler {
    /**
     * Runs the command with its {@code arguments} (JSON values: Map, List, String, Number, Boolean, null) and returns
     * what goes into the reply's {@code "return"} member (the same kinds of values; an empty map for QEMU's
     * {@code {}}). Refuses with {@link QmpError}; {@code events} reach every negotiated client of the monitor.
     */
    Object execute(Map<String, Object> arguments, QmpEvents events) throws QmpError;
}
