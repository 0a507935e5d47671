package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.ImageServiceComponent;
import org.savevm.image.internal.QemuImg;

/**
 * Images QEMU 7.2 wrote (qemu-img create, qemu-io writes, qemu-img convert -c): we read them byte-exactly (QEMU's
 * own qemu-img convert -O raw is the reference) and our block status agrees with qemu-img map.
 */
class Qcow2ReadsQemuImagesTest {
    private static final int MIB = 1 << 20;
    private final ImageServiceComponent service = new ImageServiceComponent();

    @TempDir
    Path dir;

    @BeforeEach
    void qemu() {
        QemuImg.assumeInstalled();
    }

    private void assertSameAsQemu(Path image) throws Exception {
        try (BlockImage img = service.open(image, Optional.empty(), true)) {
            assertEquals(ImageFormat.QCOW2, img.format());
            assertArrayEquals(Images.qemuRead(image, "qcow2", dir), Images.readAll(img), "guest bytes of " + image);
            assertEquals(Images.qemuMap(image, "qcow2"), Images.ourMap(img), "map of " + image);
        }
    }

    @Test
    void dataZeroAndUnallocatedClustersOfOneImage() throws Exception {
        Path f = dir.resolve("one.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", f.toString(), "8M");
        QemuImg.io(f, "qcow2", "write -P 0xab 0 64k", "write -P 0x11 100000 12345", "write -z 1M 1M",
                "write -P 0x22 3M 1M", "write -z 3200k 64k", "write -P 0x33 8388096 512");
        assertSameAsQemu(f);
        try (BlockImage img = service.open(f, Optional.empty(), true)) {
            assertEquals(new BlockStatus(0, 64 << 10, true, false, 0, true), img.blockStatus(0, 64 << 10));
            BlockStatus zero = img.blockStatus(MIB, 8 * MIB);
            assertEquals(new BlockStatus(MIB, MIB, false, true, 0, true), zero);
            ByteBuffer b = ByteBuffer.allocate(3);
            img.read(99999, b);
            assertArrayEquals(new byte[] { 0, 0x11, 0x11 }, b.array());
        }
    }

    @Test
    void backingChainOfThree() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path mid = dir.resolve("mid.qcow2");
        Path top = dir.resolve("top.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", base.toString(), "4M");
        // relative backing names, resolved against the image's directory
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
                mid.toString());
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2",
                top.toString());
        QemuImg.io(base, "qcow2", "write -P 0xab 0 64k", "write -P 0xcd 1M 1M");
        QemuImg.io(mid, "qcow2", "write -z 64k 64k", "write -P 0xee 1M 100k");
        QemuImg.io(top, "qcow2", "write -P 1 128k 64k", "write -z 1536k 1M", "write -P 2 3M 10");
        assertSameAsQemu(top);
        assertSameAsQemu(mid);
        try (BlockImage img = service.open(top, Optional.empty(), false)) {
            assertTrue(img.backing().isPresent());
            assertTrue(img.backing().get().readOnly());
            assertEquals(2, img.blockStatus(0, 64 << 10).depth());
            assertFalse(img.blockStatus(0, 64 << 10).allocated());
            BlockStatus nowhere = img.blockStatus(256 << 10, MIB);
            assertEquals(new BlockStatus(256 << 10, 768 << 10, false, true, 3, false), nowhere);
            assertTrue(img.blockStatus(128 << 10, 64 << 10).allocated());
        }
    }

    @Test
    void rawBackingFileShorterThanTheOverlay() throws Exception {
        Path base = dir.resolve("base.raw");
        byte[] data = new byte[MIB + 1024];
        new Random(5).nextBytes(data);
        Files.write(base, data);
        Path top = dir.resolve("top.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "raw",
                top.toString(), "4M");
        QemuImg.io(top, "qcow2", "write -P 7 64k 64k");
        try (BlockImage img = service.open(top, Optional.empty(), true)) {
            assertArrayEquals(Images.qemuRead(top, "qcow2", dir), Images.readAll(img));
            assertEquals(ImageFormat.RAW, img.backing().get().format());
            BlockStatus past = img.blockStatus(2 * MIB, MIB);
            assertTrue(past.zero() && !past.data() && !past.allocated(), past.toString());
        }
    }

    @Test
    void compressedClustersFromQemuImgConvert() throws Exception {
        Path raw = dir.resolve("src.raw");
        byte[] data = new byte[4 * MIB + 4096 * 3];
        Random r = new Random(9);
        r.nextBytes(data);
        byte[] text = "the quick brown fox jumps over the lazy dog; ".repeat(30000).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, data, 100, Math.min(text.length, 2 * MIB));
        java.util.Arrays.fill(data, 3 * MIB, 3 * MIB + 300000, (byte) 0);
        Files.write(raw, data);
        Path c = dir.resolve("c.qcow2");
        QemuImg.ok(QemuImg.QEMU_IMG, "convert", "-c", "-f", "raw", "-O", "qcow2", raw.toString(), c.toString());
        try (BlockImage img = service.open(c, Optional.empty(), true)) {
            assertArrayEquals(data, Images.readAll(img));
            // unaligned reads inside and across compressed clusters
            ByteBuffer b = ByteBuffer.allocate(70000);
            img.read(65536 - 5, b);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 65531, 65531 + 70000), b.array());
            assertEquals(Images.qemuMap(c, "qcow2"), Images.ourMap(img));
        }
    }

    @Test
    void version2AndSmallClustersAndOtherRefcountWidths() throws Exception {
        for (String opts : List.of("compat=0.10", "cluster_size=512", "refcount_bits=1", "refcount_bits=64,cluster_size=2M")) {
            Path f = dir.resolve("img-" + opts.replace(',', '_').replace('=', '-') + ".qcow2");
            QemuImg.ok(QemuImg.QEMU_IMG, "create", "-q", "-f", "qcow2", "-o", opts, f.toString(), "5M");
            QemuImg.io(f, "qcow2", "write -P 0x5a 1000 70000", "write -P 0x6b 2M 1M", "write -z 2500k 10k");
            assertSameAsQemu(f);
        }
    }
}
