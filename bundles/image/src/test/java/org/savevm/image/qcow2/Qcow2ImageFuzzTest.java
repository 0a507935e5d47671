package org.savevm.image.qcow2;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.InternalSnapshots;
import org.savevm.api.block.SnapshotInfo;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.testing.fuzz.FuzzOracle;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * A qcow2 file is untrusted input (issue 13's standard for issue 10's image layer): the input is an image file,
 * opened through the real {@link ImageServiceComponent} with the qcow2 format, then used the way the machine and
 * the block migration use it — reads at the start and the end, the allocation map, the internal snapshots and their
 * VM state; with byte 0 bit 0 set it is opened for writing and written (data, zeros, a snapshot created and
 * deleted, shrunk and grown back), which runs the allocation and refcount code on whatever the file's tables say.
 * The oracle is the shared {@link FuzzOracle}: only IOExceptions (the image layer's errors naming file and offset)
 * may refuse an input, within 5 s and the heap budget. A backing file named {@code plain.qcow2} exists beside the
 * input (the overlay seed's). Seeds in {@code Qcow2ImageFuzzTestInputs/imageFile}: images qemu-img 7.2 wrote with
 * 512-byte clusters (data, zero clusters, a snapshot, compressed clusters, an overlay, compat 0.10), each in both
 * modes.
 */
class Qcow2ImageFuzzTest {
    private static final FuzzOracle ORACLE = new FuzzOracle("Qcow2ImageFuzzTest.imageFile", IOException.class);
    /** What one input may read of the guest: enough to touch several L2 tables of small clusters. */
    private static final int READ_LIMIT = 1 << 20;
    private static final int MAX_EXTENTS = 256;
    private static final int MAX_SNAPSHOTS = 4;
    private static final ImageServiceComponent SERVICE = new ImageServiceComponent();
    /** JUnit's, deleted after the class. */
    @TempDir
    static Path dir;
    private static Path file;

    @BeforeAll
    static void start() throws IOException {
        file = dir.resolve("input.qcow2");
        try (InputStream in = Qcow2ImageFuzzTest.class.getResourceAsStream(
                "Qcow2ImageFuzzTestInputs/imageFile/seed-plain-read")) {
            byte[] b = in.readAllBytes();
            Files.write(dir.resolve("plain.qcow2"), Arrays.copyOfRange(b, 1, b.length));
        }
    }

    @AfterAll
    static void stop() {
        ORACLE.report(System.out);
    }

    @FuzzTest(maxDuration = "8s")
    void imageFile(byte[] input) {
        if (input.length == 0) {
            return;
        }
        ORACLE.check(input.length, () -> {
            boolean write = (input[0] & 1) != 0;
            Files.write(file, Arrays.copyOfRange(input, 1, input.length));
            try (BlockImage img = SERVICE.open(file, Optional.of(ImageFormat.QCOW2), !write)) {
                use(img, write);
            }
        });
    }

    private static void use(BlockImage img, boolean write) throws IOException {
        long size = img.size();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        for (long at = 0; at < Math.min(size, READ_LIMIT); at += buf.capacity()) {
            img.read(at, buf.clear().limit((int) Math.min(buf.capacity(), size - at)));
        }
        if (size > READ_LIMIT) {
            img.read(size - buf.capacity() / 2, buf.clear().limit(buf.capacity() / 2));
        }
        long at = 0;
        for (int i = 0; i < MAX_EXTENTS && at < size; i++) {
            BlockStatus s = img.blockStatus(at, size - at);
            if (s.offset() != at || s.end() <= at || s.end() > size) {
                throw new AssertionError("blockStatus(" + at + ") gave " + s + " in an image of " + size + " bytes");
            }
            at = s.end();
        }
        Optional<InternalSnapshots> snapshots = img.internalSnapshots();
        if (snapshots.isPresent()) {
            List<SnapshotInfo> list = snapshots.get().list();
            for (SnapshotInfo s : list.subList(0, Math.min(MAX_SNAPSHOTS, list.size()))) {
                snapshots.get().readVmState(s.id(), 0, buf.clear());
            }
        }
        if (write && size > 0) {
            img.write(0, ByteBuffer.wrap(new byte[4096], 0, (int) Math.min(4096, size)));
            img.write(size / 2 & -512L, ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            img.writeZeroes(0, Math.min(size, 128 * 1024));
            if (snapshots.isPresent()) {
                snapshots.get().create("fuzz", 0, 0, 0, 0, -1);
                snapshots.get().delete("fuzz");
            }
            // shrink by a cluster's worth and grow back: discards and zeroing on whatever the tables say
            long smaller = Math.max(0, size - 65536) & -512L;
            img.resize(smaller);
            img.resize(size);
            img.flush();
        }
    }
}
