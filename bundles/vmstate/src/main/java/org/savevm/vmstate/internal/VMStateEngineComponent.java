package org.savevm.vmstate.internal;

import java.io.IOException;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * The {@link VMStateEngine} service. Component properties {@code vmstate.maxFieldBytes} and
 * {@code vmstate.maxElements} bound what one field may claim on load.
 */
@Component(service = VMStateEngine.class, property = {"vmstate.maxFieldBytes:Long=67108864",
        "vmstate.maxElements:Long=16777216"})
public final class VMStateEngineComponent implements VMStateEngine {
    private final VMStateInterpreter interpreter;

    @Activate
    public VMStateEngineComponent(Map<String, Object> properties) {
        this(new VMStateLimits(number(properties, "vmstate.maxFieldBytes", VMStateLimits.DEFAULT.maxFieldBytes()),
                number(properties, "vmstate.maxElements", VMStateLimits.DEFAULT.maxElements())));
    }

    public VMStateEngineComponent(VMStateLimits limits) {
        this.interpreter = new VMStateInterpreter(limits);
    }

    private static long number(Map<String, Object> p, String key, long def) {
        Object v = p == null ? null : p.get(key);
        if (v instanceof Number n) {
            return n.longValue();
        }
        if (v instanceof String s && !s.isBlank()) {
            return Long.parseLong(s.trim());
        }
        return def;
    }

    @Override
    public <T> void save(MigrationOutput out, VMStateDescription<T> description, T state, StringBuilder vmdesc)
            throws IOException {
        interpreter.save(out, description, state, vmdesc);
    }

    @Override
    public <T> void load(MigrationInput in, VMStateDescription<T> description, T state, int version)
            throws IOException {
        interpreter.load(in, description, state, version);
    }
}
