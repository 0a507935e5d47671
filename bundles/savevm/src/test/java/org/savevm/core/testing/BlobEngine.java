package org.savevm.core.testing;

import java.io.IOException;

import org.savevm.api.vmstate.VMStateDescription;
import org.savevm.api.vmstate.VMStateEngine;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * A stand-in VMState engine for devices whose state is an opaque blob of known size (the size comes
 * from the vmdesc trailer of a corpus stream); checks the descriptor's version range like QEMU.
 */
public final class BlobEngine implements VMStateEngine {
    @Override
    public <T> void save(MigrationOutput out, VMStateDescription<T> d, T state, StringBuilder vmdesc) {
        byte[] b = ((BlobState) state).data;
        out.putBytes(b);
        if (vmdesc != null) {
            vmdesc.append("\"vmsd_name\": \"").append(d.name()).append("\", \"version\": ").append(d.version())
                    .append(", \"fields\": [{\"name\": \"data\", \"type\": \"buffer\", \"size\": ").append(b.length)
                    .append("}]");
        }
    }

    @Override
    public <T> void load(MigrationInput in, VMStateDescription<T> d, T state, int version) throws IOException {
        if (version > d.version()) {
            throw new MigrationStreamException(d.name() + ": version " + version + " too new", in.position());
        }
        if (version < d.minimumVersion()) {
            throw new MigrationStreamException(d.name() + ": version " + version + " too old", in.position());
        }
        byte[] b = ((BlobState) state).data;
        // decode field by field into the copy: a failure part-way leaves a half-written copy, never the device
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) in.getByte();
        }
    }
}
