package org.savevm.migration.precopy;

import java.io.IOException;

import org.savevm.api.MigrationSettings;
import org.savevm.api.SaveVm;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/** How the orchestrator starts and loads streams: the savevm core, with or without the return-path commands. */
public final class StreamEnds {
    private StreamEnds() {
    }

    /** The source: header, configuration, [OPEN_RETURN_PATH, PING(1)], START sections. */
    public interface Starter {
        SaveVm.Outgoing begin(MigrationOutput out, MigrationSettings settings, boolean openReturnPath) throws IOException;
    }

    /** The destination's side of the return path, as the loader meets its commands. */
    public interface ReturnPathSink {
        void open() throws IOException;

        void ping(int value) throws IOException;
    }

    /** The destination: loads a whole stream, telling {@code returnPath} about OPEN_RETURN_PATH and PING. */
    public interface Receiver {
        void load(MigrationInput in, MigrationSettings settings, ReturnPathSink returnPath) throws IOException;
    }

    /** Plain SaveVm: no return path commands (refused if asked for). */
    public static Starter of(SaveVm saveVm) {
        return (out, settings, rp) -> {
            if (rp) {
                throw new IOException("the savevm core in use cannot write return path commands");
            }
            return saveVm.beginSave(out, settings);
        };
    }

    public static Receiver receiverOf(SaveVm saveVm) {
        return (in, settings, rp) -> saveVm.load(in, settings);
    }
}
