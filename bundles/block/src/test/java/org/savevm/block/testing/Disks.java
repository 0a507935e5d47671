package org.savevm.block.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;

import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.BlockImage;

/** Test disk contents. */
public final class Disks {
    private Disks() {
    }

    /** A new sparse raw image of {@code size} bytes whose first {@code randomBytes} are random (seeded). */
    public static RawFileImage halfRandom(Path file, long size, long randomBytes, long seed) throws IOException {
        RawFileImage img = RawFileImage.create(file, size);
        Random rnd = new Random(seed);
        byte[] b = new byte[1 << 20];
        for (long pos = 0; pos < randomBytes; pos += b.length) {
            rnd.nextBytes(b);
            img.write(pos, ByteBuffer.wrap(b, 0, (int) Math.min(b.length, randomBytes - pos)));
        }
        return img;
    }

    /** Random guest writes of 512 bytes to 64 KiB at random sector offsets. */
    public static void guestWrites(BlockDrive d, Random rnd, int writes) throws IOException {
        for (int i = 0; i < writes; i++) {
            int len = 512 * (1 + rnd.nextInt(128));
            long sectors = (d.size() - len) / 512;
            long at = 512 * (long) rnd.nextInt((int) Math.max(1, sectors));
            byte[] b = new byte[len];
            if (rnd.nextInt(4) != 0) {
                rnd.nextBytes(b);
            }
            d.write(at, ByteBuffer.wrap(b));
        }
    }

    /** Whole content of a small image. */
    public static byte[] content(BlockImage img) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) img.size());
        img.read(0, b);
        return b.array();
    }
}
