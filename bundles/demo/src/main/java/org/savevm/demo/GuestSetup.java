package org.savevm.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.savevm.api.SaveVm;
import org.savevm.api.block.BlockDrive;
import org.savevm.api.machine.Machine;
import org.savevm.api.machine.RamBlock;
import org.savevm.stream.MigrationOutput;

/** What the demo does to a machine: fill its main RAM block, and hash its RAM and device state. */
public final class GuestSetup {
    private static final int CHUNK = 1 << 20;

    private GuestSetup() {
    }

    /** pc.ram, else the biggest block. */
    public static RamBlock mainBlock(Machine m) {
        return m.ramBlock("pc.ram").orElseGet(() -> m.ramBlocks().get(0));
    }

    /**
     * Fills the main block: {@code zero} writes zeros (every page touched), {@code random} writes seeded
     * pseudo-random bytes (incompressible), {@code file:PATH} copies the file's first bytes in.
     */
    public static void fill(Machine m, String fill, long seed) throws IOException {
        RamBlock b = mainBlock(m);
        long len = b.usedLength();
        byte[] chunk = new byte[CHUNK];
        if (fill.equals("zero")) {
            // written, not left as allocated: like QEMU's pre-faulted memory-backend-file in bench/, every
            // page is real memory the source has to read
            b.fill(0, len, (byte) 0);
            return;
        }
        if (fill.equals("random")) {
            SplittableRandom rnd = new SplittableRandom(seed);
            // native order: no byte swapping per long (the child JVMs run C1-compiled code)
            ByteBuffer bb = ByteBuffer.wrap(chunk).order(java.nio.ByteOrder.nativeOrder());
            for (long off = 0; off < len; off += CHUNK) {
                bb.clear();
                while (bb.remaining() >= 8) {
                    bb.putLong(rnd.nextLong());
                }
                b.write(off, chunk, 0, (int) Math.min(CHUNK, len - off));
            }
            return;
        }
        if (fill.startsWith("file:")) {
            try (FileChannel ch = FileChannel.open(Path.of(fill.substring(5)), StandardOpenOption.READ)) {
                long off = 0;
                while (off < len) {
                    ByteBuffer bb = ByteBuffer.wrap(chunk, 0, (int) Math.min(CHUNK, len - off));
                    int n = ch.read(bb);
                    if (n <= 0) {
                        break;
                    }
                    b.write(off, chunk, 0, n);
                    off += n;
                }
            }
            return;
        }
        throw new IllegalArgumentException("--fill expects zero, random or file:PATH, got " + fill);
    }

    /**
     * Fills a disk before the migration, through its image (not as guest writes: a migration's dirty log starts
     * at its setup, as QEMU's does): {@code zero} leaves it as created (holes / unallocated clusters),
     * {@code half} writes seeded pseudo-random bytes into the first half and leaves the rest zero, {@code random}
     * fills all of it.
     */
    public static void fillDisk(BlockDrive d, String fill, long seed) throws IOException {
        long len = switch (fill) {
            case "zero" -> 0;
            case "half" -> d.size() / 2;
            case "random" -> d.size();
            default -> throw new IllegalArgumentException("--disk-fill expects zero, half or random, got " + fill);
        };
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5a5a5a5aL);
        ByteBuffer bb = ByteBuffer.allocateDirect(CHUNK).order(java.nio.ByteOrder.nativeOrder());
        for (long off = 0; off < len; off += CHUNK) {
            bb.clear();
            while (bb.remaining() >= 8) {
                bb.putLong(rnd.nextLong());
            }
            bb.flip().limit((int) Math.min(CHUNK, len - off));
            d.image().write(off, bb);
        }
        d.image().flush();
    }

    /** Each drive's content hash by name, in the machine's order. */
    public static Map<String, String> diskHashes(Machine m) throws IOException {
        Map<String, String> h = new LinkedHashMap<>();
        for (BlockDrive d : m.drives()) {
            h.put(d.name(), d.contentHash());
        }
        return h;
    }

    /** SHA-256 of the device state (header, every non-live section, EOF) as the savevm core writes it. */
    public static String deviceHash(SaveVm saveVm) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationOutput out = MigrationOutput.of(bytes);
        saveVm.saveDeviceState(out);
        out.flush();
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
