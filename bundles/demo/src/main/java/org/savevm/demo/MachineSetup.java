package org.savevm.demo;

import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Optional;
import java.util.function.Supplier;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.savevm.api.machine.Machine;

/**
 * Sizes the machine for the demo through its ConfigAdmin PID ({@code org.savevm.machine}, property
 * {@code ram}) and waits, bounded, until the re-created Machine service with that RAM size is there.
 */
public final class MachineSetup {
    private static final String MACHINE_PID = "org.savevm.machine";

    private MachineSetup() {
    }

    public static Machine sized(ConfigurationAdmin cm, Supplier<Optional<Machine>> machine, long ramBytes,
            long timeoutMillis) throws IOException, InterruptedException {
        Optional<Machine> now = machine.get();
        if (now.isPresent() && GuestSetup.mainBlock(now.get()).usedLength() == ramBytes) {
            return now.get();
        }
        if (cm == null) {
            throw new IOException("ConfigurationAdmin is not available: cannot size the machine to " + ramBytes + " bytes");
        }
        Configuration c = cm.getConfiguration(MACHINE_PID, "?");
        Dictionary<String, Object> props = c.getProperties();
        if (props == null) {
            props = new Hashtable<>();
        }
        props.put("ram", Long.toString(ramBytes));
        c.update(props);
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            Optional<Machine> m = machine.get();
            if (m.isPresent()) {
                try {
                    if (GuestSetup.mainBlock(m.get()).usedLength() == ramBytes) {
                        return m.get();
                    }
                } catch (RuntimeException e) {
                    // The old machine is going away under us: try again.
                }
            }
            Thread.sleep(50);
        }
        throw new IOException("the machine did not come up with " + ramBytes + " bytes of RAM within " + timeoutMillis + " ms");
    }
}
