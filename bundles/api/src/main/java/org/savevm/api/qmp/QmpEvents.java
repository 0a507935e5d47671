package org.savevm.api.qmp;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/** Where QMP events go: every client of the monitor that finished capabilities negotiation. */
@ProviderType
@FunctionalInterface
public interface QmpEvents {
    /** A sink for callers without a monitor. */
    QmpEvents NONE = (event, data) -> { };

    /** Sends {@code {"event": event, "data": data, "timestamp": {...}}} now. */
    void emit(String event, Map<String, Object> data);
}
