package org.savevm.vmstate.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;

import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/** Test helpers: hex vectors and save/load through the interpreter. */
final class Bytes {
    static final VMStateInterpreter ENGINE = new VMStateInterpreter(VMStateLimits.DEFAULT);

    private Bytes() {
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replaceAll("\\s+", ""));
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static <T> byte[] save(VMStateDescription<T> d, T state) throws IOException {
        return save(ENGINE, d, state, null);
    }

    static <T> byte[] save(VMStateInterpreter engine, VMStateDescription<T> d, T state, StringBuilder vmdesc)
            throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bos);
        engine.save(out, d, state, vmdesc);
        out.flush();
        return bos.toByteArray();
    }

    /** Loads {@code bytes} at {@code version}; returns how many bytes the load consumed. */
    static <T> long load(VMStateDescription<T> d, T state, int version, byte[] bytes) throws IOException {
        MigrationInput in = MigrationInput.of(bytes);
        ENGINE.load(in, d, state, version);
        return in.position();
    }
}
