package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.image.internal.QemuImg;

/**
 * The VM state area snapshots will store their state in (QEMU's qcow2_vm_state_offset: the first L1 entry past the
 * guest's clusters): written through the same allocation paths, growing the L1 table, invisible to the guest.
 */
class Qcow2VmStateTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void vmStateIsStoredPastTheGuestEndAndTheL1TableGrows() throws Exception {
        ImageServiceComponent service = new ImageServiceComponent();
        Path f = dir.resolve("vm.qcow2");
        byte[] state = new byte[3 * MIB + 123];
        new Random(8).nextBytes(state);
        byte[] guest = new byte[MIB];
        new Random(9).nextBytes(guest);
        try (Qcow2Image img = (Qcow2Image) service.create(f, ImageFormat.QCOW2, 64 * MIB, Optional.empty(),
                Optional.empty())) {
            assertEquals(512L * MIB, img.vmStateOffset()); // one L1 entry of 512 MiB maps the guest
            img.write(0, ByteBuffer.wrap(guest));
            ByteBuffer none = ByteBuffer.allocate(1000);
            img.readVmState(5, none);
            assertArrayEquals(new byte[1000], none.array());
            img.writeVmState(0, ByteBuffer.wrap(state));
            img.writeVmState(600L * MIB, ByteBuffer.wrap(state, 0, 5000)); // the next L1 entry too
            ByteBuffer back = ByteBuffer.allocate(state.length);
            img.readVmState(0, back);
            assertArrayEquals(state, back.array());
            IOException e = assertThrows(IOException.class, () -> img.read(64 * MIB, ByteBuffer.allocate(1)));
            assertTrue(e.getMessage().contains("outside the image"), e.getMessage());
        }
        try (Qcow2Image img = (Qcow2Image) service.open(f, Optional.empty(), true)) {
            assertTrue(img.header().l1Size > 1, "the L1 table grew: " + img.header().l1Size);
            assertTrue(img.header().l1TableOffset != 3L << 16, "the L1 table moved");
            ByteBuffer back = ByteBuffer.allocate(state.length);
            img.readVmState(0, back);
            assertArrayEquals(state, back.array());
            ByteBuffer tail = ByteBuffer.allocate(5000);
            img.readVmState(600L * MIB, tail);
            assertArrayEquals(java.util.Arrays.copyOf(state, 5000), tail.array());
            ByteBuffer g = ByteBuffer.allocate(MIB);
            img.read(0, g);
            assertArrayEquals(guest, g.array());
        }
        if (QemuImg.installed(QemuImg.QEMU_IMG)) {
            Images.assertCheckClean(f);
            byte[] q = Images.qemuRead(f, "qcow2", dir);
            assertEquals(64 * MIB, q.length);
            assertArrayEquals(guest, java.util.Arrays.copyOf(q, MIB));
        }
    }

    @Test
    void discardedVmStateReadsAsZerosAndItsClustersAreReused() throws Exception {
        ImageServiceComponent service = new ImageServiceComponent();
        Path f = dir.resolve("discard.qcow2");
        byte[] state = new byte[2 * MIB + 100];
        new Random(10).nextBytes(state);
        long sizeWithState;
        try (Qcow2Image img = (Qcow2Image) service.create(f, ImageFormat.QCOW2, 16 * MIB, Optional.empty(),
                Optional.empty())) {
            img.writeVmState(0, ByteBuffer.wrap(state));
            img.flush();
            sizeWithState = java.nio.file.Files.size(f);
            img.discardVmState(state.length);
            ByteBuffer back = ByteBuffer.allocate(state.length);
            img.readVmState(0, back);
            assertArrayEquals(new byte[state.length], back.array());
            // the freed clusters take the next guest data: the file does not grow
            byte[] guest = new byte[2 * MIB];
            new Random(11).nextBytes(guest);
            img.write(4 * MIB, ByteBuffer.wrap(guest));
            img.flush();
            assertEquals(sizeWithState, java.nio.file.Files.size(f));
        }
        if (QemuImg.installed(QemuImg.QEMU_IMG)) {
            Images.assertCheckClean(f);
        }
    }

    @Test
    void readOnlyImagesRefuseVmStateWrites() throws Exception {
        ImageServiceComponent service = new ImageServiceComponent();
        Path f = dir.resolve("ro.qcow2");
        service.create(f, ImageFormat.QCOW2, MIB, Optional.empty(), Optional.empty()).close();
        try (BlockImage img = service.open(f, Optional.empty(), true)) {
            assertThrows(IOException.class, () -> ((Qcow2Image) img).writeVmState(0, ByteBuffer.allocate(1)));
            assertThrows(IOException.class, () -> ((Qcow2Image) img).readVmState(-1, ByteBuffer.allocate(1)));
        }
    }
}
