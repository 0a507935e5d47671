package org.savevm.image.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;

/**
 * savevm and real QEMU 7.2 refuse each other's images as two QEMUs do (ImageLocks): qemu-io and qemu-img are the
 * other process, holding an image or asking for one we hold.
 */
class ImageLocksQemuTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;
    private final ImageServiceComponent service = new ImageServiceComponent();

    @BeforeEach
    void needsQemu() {
        QemuImg.assumeInstalled();
    }

    @Test
    void qemuCannotWriteNorCheckAnImageWeWrite() throws Exception {
        Path raw = dir.resolve("ours.raw");
        Path qcow2 = dir.resolve("ours.qcow2");
        try (BlockImage a = service.create(raw, ImageFormat.RAW, MIB, Optional.empty(), Optional.empty());
                BlockImage b = service.create(qcow2, ImageFormat.QCOW2, MIB, Optional.empty(), Optional.empty())) {
            a.write(0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            for (String[] c : new String[][] {{raw.toString(), "raw"}, {qcow2.toString(), "qcow2"}}) {
                QemuImg.Result w = QemuImg.run(QemuImg.QEMU_IO, "-f", c[1], "-c", "write 0 512", c[0]);
                assertNotEquals(0, w.exit(), w.out());
                assertTrue(w.err().contains("Failed to get \"write\" lock"), w.err());
                assertTrue(w.err().contains("Is another process using the image"), w.err());
            }
            // a qcow2 file's readers need it unchanged: refused; -U (force-share) reads anyway
            QemuImg.Result check = QemuImg.run(QemuImg.QEMU_IMG, "check", "-f", "qcow2", qcow2.toString());
            assertNotEquals(0, check.exit());
            assertTrue(check.err().contains("Failed to get shared \"write\" lock"), check.err());
            QemuImg.ok(QemuImg.QEMU_IMG, "check", "-U", "-f", "qcow2", qcow2.toString());
            // qemu-io reading a raw file shares write (as with a QEMU guest writing it): allowed
            String read = QemuImg.ok(QemuImg.QEMU_IO, "-r", "-f", "raw", "-c", "read -v 0 3", raw.toString());
            assertTrue(read.contains("01 02 03"), read);
        }
        // closed: QEMU gets them
        QemuImg.io(raw, "raw", "write 0 512");
        QemuImg.ok(QemuImg.QEMU_IMG, "check", "-f", "qcow2", qcow2.toString());
    }

    @Test
    void weCannotOpenAnImageQemuWrites() throws Exception {
        for (ImageFormat format : List.of(ImageFormat.RAW, ImageFormat.QCOW2)) {
            String fmt = format == ImageFormat.RAW ? "raw" : "qcow2";
            Path image = dir.resolve("theirs." + fmt);
            QemuImg.ok(QemuImg.QEMU_IMG, "create", "-f", fmt, image.toString(), "1M");
            Process qemu = holding(image, fmt, false);
            try {
                // qemu-io shares write on a raw file (only another writer conflicts), not on a qcow2 file
                IOException w = assertThrows(IOException.class, () -> service.open(image, Optional.of(format), false));
                assertEquals(image + (format == ImageFormat.RAW ? ": failed to get shared \"write\" lock"
                        : ": failed to get \"write\" lock") + ": is another process using the image?", w.getMessage());
                IOException r = assertThrows(IOException.class, () -> service.open(image, Optional.of(format), true));
                assertEquals(image + ": failed to get shared \"write\" lock: is another process using the image?",
                        r.getMessage());
            } finally {
                stop(qemu);
            }
            // qemu-io reading it: we read it too; we write it only where qemu-io shares write (raw, not qcow2)
            qemu = holding(image, fmt, true);
            try {
                try (BlockImage reader = service.open(image, Optional.of(format), true)) {
                    assertEquals(MIB, reader.size());
                }
                if (format == ImageFormat.RAW) {
                    service.open(image, Optional.of(format), false).close();
                } else {
                    IOException w = assertThrows(IOException.class,
                            () -> service.open(image, Optional.of(format), false));
                    assertTrue(w.getMessage().startsWith(image + ": failed to get \"write\" lock"), w.getMessage());
                }
            } finally {
                stop(qemu);
            }
            service.open(image, Optional.of(format), false).close();
        }
    }

    /** qemu-io keeping the image open (its interactive prompt waits on stdin) until stopped. */
    private static Process holding(Path image, String fmt, boolean readOnly) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(readOnly
                ? List.of(QemuImg.QEMU_IO, "-r", "-f", fmt, image.toString())
                : List.of(QemuImg.QEMU_IO, "-f", fmt, image.toString()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().write("open-check\n".getBytes(StandardCharsets.US_ASCII)); // an unknown command: echoes
        p.getOutputStream().flush();
        InputStream out = p.getInputStream();
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!seen.toString().contains("open-check") && System.nanoTime() < deadline) {
            int c = out.read();
            if (c < 0) {
                throw new AssertionError("qemu-io exited: " + seen);
            }
            seen.append((char) c);
        }
        assertTrue(p.isAlive(), seen.toString());
        // the image is open once qemu-io answered its first command
        assertTrue(Files.exists(image));
        return p;
    }

    private static void stop(Process p) throws Exception {
        p.getOutputStream().close(); // end of input: qemu-io quits
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }
}
