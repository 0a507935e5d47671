package org.savevm.migration;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.savevm.api.DiscardRange;
import org.savevm.api.IncomingCommands;
import org.savevm.api.MigrationContext;
import org.savevm.api.MigrationSettings;
import org.savevm.api.OutgoingCommands;
import org.savevm.api.PendingBytes;
import org.savevm.api.SaveVm;
import org.savevm.api.machine.RamPostcopySource;
import org.savevm.framing.commands.CommandWriter;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * A savevm core stand-in with a tiny stream of its own: magic, then chunks (tag 1, be32 length,
 * pattern bytes), then tag 0 and the total. The source has {@code totalBytes} to send, plus
 * {@code redirtyPerIterate} that come back after each iterate (a guest that keeps writing); the
 * destination checks every byte, the framing and the total, so a cut stream fails to load.
 */
public final class FakeSaveVm implements SaveVm {
    static final int MAGIC = 0x46414b45;

    final long totalBytes;
    final int chunk;
    volatile long redirtyPerIterate;
    final AtomicInteger iterations = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();
    final AtomicLong loadedBytes = new AtomicLong(-1);
    final AtomicInteger completes = new AtomicInteger();
    /** Bytes sent by complete(), i.e. with the guest stopped. */
    final AtomicLong completeBytes = new AtomicLong(-1);
    /** Report firstPassDone() only once all of totalBytes went out once (as the ram handler does). */
    volatile boolean reportsFirstPass;
    /** The destination refuses the stream after reading all of it (a device that does not load). */
    volatile boolean refuseAtEnd;

    /** Published in the context of a postcopy-ram save, as the ram handler publishes its own. */
    volatile RamPostcopySource postcopySource;

    public FakeSaveVm(long totalBytes, int chunk) {
        this.totalBytes = totalBytes;
        this.chunk = chunk;
    }

    static byte pattern(long streamOffset) {
        return (byte) (streamOffset * 31 + (streamOffset >>> 8));
    }

    /** QEMU_VM_COMMAND records as the savevm core writes them. */
    @Override
    public OutgoingCommands commands(MigrationOutput out) {
        return new CommandWriter(out);
    }

    @Override
    public Outgoing beginSave(MigrationOutput out, MigrationContext context, BeforeSetup beforeSetup)
            throws IOException {
        MigrationSettings settings = context.settings();
        out.putBe32(MAGIC);
        beforeSetup.write(commands(out));
        out.checkError();
        RamPostcopySource pc = postcopySource;
        if (pc != null && settings.capability("postcopy-ram")) {
            context.publish(RamPostcopySource.class, pc);
        }
        return new Outgoing() {
            long pending = totalBytes;
            long sent;

            private void sendChunk(int len) {
                byte[] b = new byte[len];
                for (int i = 0; i < len; i++) {
                    b[i] = pattern(sent + i);
                }
                out.putByte(1).putBe32(len).putBytes(b);
                sent += len;
                pending = Math.max(0, pending - len);
            }

            @Override
            public boolean iterate() throws IOException {
                iterations.incrementAndGet();
                while (pending > 0 && !out.rateLimitExceeded()) {
                    sendChunk((int) Math.min(chunk, pending));
                }
                pending += redirtyPerIterate;
                out.checkError();
                return pending == 0;
            }

            @Override
            public PendingBytes pending(boolean exact) {
                // Like the ram handler: with postcopy-ram everything may also go after the switch.
                return settings.capability("postcopy-ram") ? new PendingBytes(0, pending) : new PendingBytes(pending, 0);
            }

            @Override
            public boolean firstPassDone() {
                return !reportsFirstPass || sent >= totalBytes;
            }

            @Override
            public void complete() throws IOException {
                completes.incrementAndGet();
                long before = sent;
                while (pending > 0) {
                    sendChunk((int) Math.min(chunk, pending));
                }
                completeBytes.set(sent - before);
                out.putByte(0).putBe64(sent);
                out.flush();
            }

            @Override
            public void close() {
                closes.incrementAndGet();
            }

            @Override
            public void completeNonPostcopiable() {
            }

            @Override
            public void writeDeviceSections(MigrationOutput blob) {
                blob.putByte(9);
            }

            @Override
            public boolean iteratePostcopy() throws IOException {
                return iterate();
            }

            @Override
            public void completePostcopy() throws IOException {
                complete();
            }
        };
    }

    /** Published in the load's context when the stream ended well, as the core publishes its LoadReport. */
    volatile org.savevm.api.LoadReport loadReport;

    @Override
    public void load(MigrationInput in, MigrationContext context, IncomingCommands rp) throws IOException {
        if (in.getBe32() != MAGIC) {
            throw new MigrationStreamException("bad magic", 0);
        }
        long got = 0;
        while (true) {
            int tag = in.getByte();
            if (tag == 8) {
                command(in, rp);
                continue;
            }
            if (tag == 0) {
                long total = in.getBe64();
                if (total != got) {
                    throw new MigrationStreamException("total " + total + " but " + got + " bytes loaded", in.position());
                }
                if (refuseAtEnd) {
                    throw new MigrationStreamException("device 'serial' refused its state", in.position());
                }
                loadedBytes.set(got);
                if (loadReport != null) {
                    context.publish(org.savevm.api.LoadReport.class, loadReport); // as the core does after a load
                }
                return;
            }
            if (tag != 1) {
                throw new MigrationStreamException("unknown tag " + tag, in.position());
            }
            int len = in.getBe32();
            if (len <= 0 || len > (1 << 20)) {
                throw new MigrationStreamException("bad chunk length " + len, in.position());
            }
            byte[] b = in.readBytes(len);
            for (int i = 0; i < len; i++) {
                if (b[i] != pattern(got + i)) {
                    throw new MigrationStreamException("wrong byte", in.position());
                }
            }
            got += len;
        }
    }

    /** QEMU_VM_COMMAND as the core's CommandWriter writes it: be16 id (QEMU 7.2's numbering), be16 length, payload. */
    private static void command(MigrationInput in, IncomingCommands rp) throws IOException {
        int cmd = in.getBe16();
        int len = in.getBe16();
        byte[] p = in.readBytes(len);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(p);
        switch (cmd) {
            case 1 -> rp.openReturnPath();
            case 2 -> rp.ping(b.getInt());
            case 3 -> rp.postcopyAdvise(true, b.getLong(), b.getLong());
            case 4 -> rp.postcopyListen();
            case 5 -> rp.postcopyRun();
            case 6 -> {
                b.get();
                byte[] name = new byte[b.get() & 0xff];
                b.get(name);
                b.get();
                List<DiscardRange> ranges = new ArrayList<>();
                while (b.hasRemaining()) {
                    ranges.add(new DiscardRange(b.getLong(), b.getLong()));
                }
                rp.postcopyRamDiscard(new String(name, java.nio.charset.StandardCharsets.US_ASCII), ranges);
            }
            case 7 -> {
                MigrationInput blob = MigrationInput.of(in.readBytes(b.getInt()));
                while (!blob.atEnd()) {
                    int tag = blob.getByte();
                    if (tag == 8) {
                        command(blob, rp);
                    } else if (tag != 9) {
                        throw new MigrationStreamException("bad tag in package " + tag, blob.position());
                    }
                }
            }
            default -> throw new MigrationStreamException("unexpected command " + cmd, in.position());
        }
    }

    @Override
    public void saveDeviceState(MigrationOutput out) throws IOException {
        out.putBe32(MAGIC);
        out.flush();
    }
}
