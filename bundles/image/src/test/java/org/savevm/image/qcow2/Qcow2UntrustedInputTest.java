package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.Deflater;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.image.internal.ImageServiceComponent;

/**
 * A qcow2 file is untrusted input: malformed headers and tables are refused with errors naming the file and the
 * offset, sizes from the header are checked before anything is allocated from them, and features we do not implement
 * are named. Needs no QEMU: the images are ours, patched.
 */
class Qcow2UntrustedInputTest {
    private static final int CLUSTER = 1 << 16;
    private static final long L1 = 3L * CLUSTER; // where our create puts the L1 table
    private final ImageServiceComponent service = new ImageServiceComponent();

    @TempDir
    Path dir;

    private Path image(String name) throws IOException {
        Path f = dir.resolve(name);
        try (BlockImage img = service.create(f, ImageFormat.QCOW2, 4 << 20, Optional.empty(), Optional.empty())) {
            img.write(0, ByteBuffer.wrap(new byte[] { 1, 2, 3, 4 }));
        }
        return f;
    }

    private static void patch(Path f, long offset, ByteBuffer bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(bytes, offset);
        }
    }

    private static void patchLong(Path f, long offset, long v) throws IOException {
        patch(f, offset, ByteBuffer.allocate(8).putLong(0, v));
    }

    private static void patchInt(Path f, long offset, int v) throws IOException {
        patch(f, offset, ByteBuffer.allocate(4).putInt(0, v));
    }

    private IOException openFails(Path f, String... parts) {
        IOException e = assertThrows(IOException.class, () -> {
            try (BlockImage img = service.open(f, Optional.of(ImageFormat.QCOW2), true)) {
                img.read(0, ByteBuffer.allocate((int) img.size()));
            }
        });
        assertMessage(e, f, parts);
        return e;
    }

    private static void assertMessage(IOException e, Path f, String... parts) {
        String m = e.getMessage();
        assertTrue(m.contains(f.toString()), "names the file: " + m);
        for (String p : parts) {
            assertTrue(m.contains(p), "'" + p + "' in: " + m);
        }
    }

    @Test
    void truncatedHeaders() throws Exception {
        Path f = dir.resolve("t.qcow2");
        Files.write(f, new byte[] { 'Q', 'F', 'I', (byte) 0xfb, 0, 0, 0, 3 });
        openFails(f, "truncated qcow2 header: 8 bytes");
        Path g = image("g.qcow2");
        byte[] head = Arrays.copyOf(Files.readAllBytes(g), 100);
        Files.write(g, head);
        openFails(g, "truncated qcow2 version 3 header: 100 bytes");
        Path v = image("v.qcow2");
        patchInt(v, 4, 4);
        openFails(v, "unsupported qcow2 version 4", "header byte offset 4");
    }

    @Test
    void headerFieldsOutOfRangeAreRefusedBeforeAllocating() throws Exception {
        Path bits = image("bits.qcow2");
        patchInt(bits, 20, 40);
        openFails(bits, "cluster_bits 40 out of range [9, 21]", "header byte offset 20");
        Path l1 = image("l1.qcow2");
        patchInt(l1, 36, 0x7fffffff); // 16 GiB of L1 entries: refused, never allocated
        openFails(l1, "L1 table of 2147483647 entries is larger than 32 MiB", "header byte offset 36");
        Path l1small = image("l1small.qcow2");
        patchLong(l1small, 24, 1L << 40); // a 1 TiB disk with a one-entry L1
        openFails(l1small, "too small for virtual size 1099511627776");
        Path l1eof = image("l1eof.qcow2");
        patchLong(l1eof, 40, 1L << 30);
        openFails(l1eof, "L1 table at 1073741824", "past the end of the file", "header byte offset 40");
        Path l1unaligned = image("l1unaligned.qcow2");
        patchLong(l1unaligned, 40, L1 + 512);
        openFails(l1unaligned, "L1 table offset 197120 is not a non-zero multiple of the cluster size");
        Path reftable = image("reftable.qcow2");
        patchInt(reftable, 56, 1 << 20);
        openFails(reftable, "refcount table of 1048576 clusters", "header byte offset 56");
        Path order = image("order.qcow2");
        patchInt(order, 96, 7);
        openFails(order, "refcount_order 7 out of range", "header byte offset 96");
        Path hlen = image("hlen.qcow2");
        patchInt(hlen, 100, 1 << 20);
        openFails(hlen, "bad header_length 1048576", "header byte offset 100");
        Path backing = image("backing.qcow2");
        patchLong(backing, 8, CLUSTER - 10);
        patchInt(backing, 16, 100);
        openFails(backing, "backing file name at 65526 (+100) lies outside the first cluster");
    }

    @Test
    void featuresWeDoNotImplementAreNamed() throws Exception {
        Path extl2 = image("extl2.qcow2");
        patchLong(extl2, 72, 1L << 4);
        openFails(extl2, "unsupported incompatible feature bit 4 (extended L2 entries)", "header byte offset 72");
        Path datafile = image("datafile.qcow2");
        patchLong(datafile, 72, 1L << 2);
        openFails(datafile, "feature bit 2 (external data file)");
        Path unknown = image("unknown.qcow2");
        patchLong(unknown, 72, 1L << 20);
        openFails(unknown, "unsupported incompatible feature bit 20 (unknown feature)");
        Path crypt = image("crypt.qcow2");
        patchInt(crypt, 32, 2);
        openFails(crypt, "encrypted images are not supported (crypt_method 2)");
        Path zstd = image("zstd.qcow2");
        patchLong(zstd, 72, 1L << 3);
        openFails(zstd, "feature bit 3 (compression type)");

        Path dirty = image("dirty.qcow2");
        patchLong(dirty, 72, 1L);
        try (BlockImage img = service.open(dirty, Optional.empty(), true)) {
            ByteBuffer b = ByteBuffer.allocate(4);
            img.read(0, b);
            assertArrayEquals(new byte[] { 1, 2, 3, 4 }, b.array());
        }
        IOException e = assertThrows(IOException.class, () -> service.open(dirty, Optional.empty(), false));
        assertMessage(e, dirty, "dirty bit is set");
        Path corrupt = image("corrupt.qcow2");
        patchLong(corrupt, 72, 2L);
        e = assertThrows(IOException.class, () -> service.open(corrupt, Optional.empty(), false));
        assertMessage(e, corrupt, "marked corrupt");
    }

    @Test
    void badTableEntriesNameWhereTheyAre() throws Exception {
        Path eof = image("eof.qcow2");
        patchLong(eof, L1, (1L << 40) | L2Entry.COPIED);
        openFails(eof, "L2 table at offset 1099511627776 lies past the end of the file",
                "L1 entry 0 at byte offset 196608");
        Path unaligned = image("unaligned.qcow2");
        patchLong(unaligned, L1, (5L * CLUSTER + 512) | L2Entry.COPIED);
        openFails(unaligned, "L2 table offset 0x50200 is not cluster-aligned", "L1 entry 0 at byte offset 196608");
        // the L2 table of our image is the cluster after L1; its first entry names the data cluster
        Path data = image("data.qcow2");
        long l2 = l2Of(data);
        patchLong(data, l2, (5L * CLUSTER + 1024) | L2Entry.COPIED);
        openFails(data, "data cluster offset 0x50400 for guest offset 0 is not cluster-aligned",
                "L2 table at " + l2 + ", entry 0");
    }

    private static long l2Of(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(8);
            ch.read(b, L1);
            return L2Entry.offset(b.getLong(0));
        }
    }

    /** A compressed cluster made here the way QEMU makes them (raw deflate) reads back; a damaged one is named. */
    @Test
    void compressedClustersReadAndDamagedOnesAreNamed() throws Exception {
        Path f = image("comp.qcow2");
        byte[] cluster = new byte[CLUSTER];
        for (int i = 0; i < cluster.length; i++) {
            cluster[i] = (byte) (i / 300);
        }
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        d.setInput(cluster);
        d.finish();
        byte[] out = new byte[CLUSTER];
        int n = d.deflate(out);
        d.end();
        long host = Files.size(f) + 100; // unaligned, as QEMU packs them
        patch(f, host, ByteBuffer.wrap(out, 0, n));
        long sectors = (host + n - 1) / 512 - host / 512; // additional sectors after the first
        int shift = 62 - (16 - 8);
        long entry = L2Entry.COMPRESSED | (sectors << shift) | host;
        long l2 = l2Of(f);
        patchLong(f, l2 + 8, entry); // guest cluster 1
        try (BlockImage img = service.open(f, Optional.empty(), true)) {
            ByteBuffer b = ByteBuffer.allocate(CLUSTER);
            img.read(CLUSTER, b);
            assertArrayEquals(cluster, b.array());
        }
        patch(f, host + 10, ByteBuffer.wrap(new byte[] { (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff }));
        IOException e = assertThrows(IOException.class, () -> {
            try (BlockImage img = service.open(f, Optional.empty(), true)) {
                img.read(CLUSTER, ByteBuffer.allocate(CLUSTER));
            }
        });
        assertMessage(e, f, "bad compressed cluster for guest offset 65536 at host offset " + host);
    }

    @Test
    void backingChainsThatLoopOrAreMissingOrTooDeep() throws Exception {
        Path y = dir.resolve("y.qcow2");
        service.create(y, ImageFormat.QCOW2, 1 << 20, Optional.empty(), Optional.empty()).close();
        Path x = dir.resolve("x.qcow2");
        service.create(x, ImageFormat.QCOW2, -1, Optional.of(Path.of("y.qcow2")), Optional.empty()).close();
        Path z = dir.resolve("z.qcow2");
        service.create(z, ImageFormat.QCOW2, -1, Optional.of(Path.of("x.qcow2")), Optional.empty()).close();
        Files.move(z, y, java.nio.file.StandardCopyOption.REPLACE_EXISTING); // y -> x -> y
        IOException e = assertThrows(IOException.class, () -> service.open(x, Optional.empty(), false));
        assertTrue(e.getMessage().contains("backing chain loops"), e.getMessage());

        Path orphan = dir.resolve("orphan.qcow2");
        Path gone = dir.resolve("gone.qcow2");
        service.create(gone, ImageFormat.QCOW2, 1 << 20, Optional.empty(), Optional.empty()).close();
        service.create(orphan, ImageFormat.QCOW2, -1, Optional.of(gone), Optional.empty()).close();
        Files.delete(gone);
        e = assertThrows(IOException.class, () -> service.open(orphan, Optional.empty(), true));
        assertTrue(e.getMessage().contains(gone + ": no such image file (backing file of"), e.getMessage());

        Path prev = dir.resolve("d0.qcow2");
        service.create(prev, ImageFormat.QCOW2, 1 << 20, Optional.empty(), Optional.empty()).close();
        for (int i = 1; i <= ImageServiceComponent.MAX_CHAIN_DEPTH + 1; i++) {
            Path next = dir.resolve("d" + i + ".qcow2");
            Qcow2Create.create(next, 1 << 20, Optional.of(prev.getFileName().toString()), Optional.of("qcow2"));
            prev = next;
        }
        Path deepest = prev;
        e = assertThrows(IOException.class, () -> service.open(deepest, Optional.empty(), true));
        assertTrue(e.getMessage().contains("backing chain deeper than 64 images"), e.getMessage());
        try (BlockImage ok = service.open(dir.resolve("d64.qcow2"), Optional.empty(), true)) {
            assertTrue(ok.backing().isPresent());
        }
    }

    @Test
    void unknownBackingFormatIsRefused() throws Exception {
        Path base = dir.resolve("b.raw");
        service.create(base, ImageFormat.RAW, 1 << 20, Optional.empty(), Optional.empty()).close();
        Path top = dir.resolve("top.qcow2");
        Qcow2Create.create(top, 1 << 20, Optional.of("b.raw"), Optional.of("vmdk"));
        IOException e = assertThrows(IOException.class, () -> service.open(top, Optional.empty(), true));
        assertMessage(e, top, "backing file format 'vmdk' is not supported");
    }
}
