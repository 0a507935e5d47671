package org.savevm.core.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.PendingBytes;
import org.savevm.api.SectionRegistration;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * A live handler with {@code chunks} chunks of 64 deterministic bytes. START: be32 count; PART/END:
 * records (u8 1, be32 index, 64 bytes) ended by u8 0. Each iterate sends at most {@code perIterate}
 * chunks and stops early at the rate limit. The load side checks every byte and that all chunks came.
 */
public final class ChunkedLiveHandler implements LiveStateHandler {
    public static final int CHUNK = 64;
    private final String idstr;
    private final int chunks;
    private final int perIterate;
    public final BitSet received = new BitSet();
    public final List<String> events = new ArrayList<>();
    public boolean active = true;
    public boolean postcopy;
    public int saveSessionsClosed;
    public int loadSessionsClosed;

    public ChunkedLiveHandler(String idstr, int chunks, int perIterate) {
        this.idstr = idstr;
        this.chunks = chunks;
        this.perIterate = perIterate;
    }

    static byte value(int chunk, int j) {
        return (byte) (chunk * 31 + j);
    }

    @Override
    public SectionRegistration registration() {
        return SectionRegistration.builder(idstr).version(3).build();
    }

    @Override
    public boolean isActive(MigrationSettings settings) {
        return active;
    }

    @Override
    public boolean hasPostcopy() {
        return postcopy;
    }

    @Override
    public SaveSession beginSave(MigrationContext context) {
        return new SaveSession() {
            int next;

            private void send(MigrationOutput out, int i) {
                out.putByte(1).putBe32(i);
                for (int j = 0; j < CHUNK; j++) {
                    out.putByte(value(i, j));
                }
            }

            @Override
            public void setup(MigrationOutput out) {
                events.add("setup");
                out.putBe32(chunks);
            }

            @Override
            public boolean iterate(MigrationOutput out) {
                events.add("iterate");
                int sent = 0;
                while (next < chunks && sent < perIterate && !out.rateLimitExceeded()) {
                    send(out, next++);
                    sent++;
                }
                out.putByte(0);
                return next == chunks;
            }

            @Override
            public PendingBytes pending(boolean exact) {
                return new PendingBytes((long) (chunks - next) * CHUNK, 0);
            }

            @Override
            public void completePrecopy(MigrationOutput out) {
                events.add("complete");
                while (next < chunks) {
                    send(out, next++);
                }
                out.putByte(0);
            }

            @Override
            public void close() {
                saveSessionsClosed++;
            }
        };
    }

    @Override
    public LoadSession beginLoad(MigrationContext context) {
        return new LoadSession() {
            int expected = -1;

            @Override
            public void load(MigrationInput in, int version) throws IOException {
                if (expected < 0) {
                    expected = in.getBe32();
                    return;
                }
                while (true) {
                    long at = in.position();
                    int marker = in.getByte();
                    if (marker == 0) {
                        return;
                    }
                    if (marker != 1) {
                        throw new MigrationStreamException(idstr + ": bad record marker " + marker, at);
                    }
                    int i = in.getBe32();
                    if (i < 0 || i >= expected) {
                        throw new MigrationStreamException(idstr + ": chunk " + i + " out of range", at);
                    }
                    for (int j = 0; j < CHUNK; j++) {
                        if ((byte) in.getByte() != value(i, j)) {
                            throw new MigrationStreamException(idstr + ": chunk " + i + " byte " + j, in.position());
                        }
                    }
                    received.set(i);
                }
            }

            @Override
            public void complete() throws IOException {
                if (received.cardinality() != expected) {
                    throw new IOException(idstr + ": got " + received.cardinality() + " of " + expected + " chunks");
                }
                events.add("load-complete");
            }

            @Override
            public void close() {
                loadSessionsClosed++;
            }
        };
    }
}
