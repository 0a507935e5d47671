package org.savevm.block.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.BlockImage;

/**
 * A test drive: any {@link BlockImage} under a device name, with the per-chunk dirty log (set after each guest
 * write) and the hold of the {@link BlockDrive} contract, until the machine's drives are merged.
 */
public final class TestDrive implements BlockDrive {
    private final String name;
    private final BlockImage image;
    private final AtomicLongArray log;
    private final AtomicReference<String> holder = new AtomicReference<>();

    public TestDrive(String name, BlockImage image) {
        this.name = name;
        this.image = image;
        this.log = new AtomicLongArray((int) ((chunks() + 63) / 64));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public BlockImage image() {
        return image;
    }

    @Override
    public boolean readOnly() {
        return image.readOnly();
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        int len = src.remaining();
        image.write(offset, src);
        if (len > 0) {
            for (long c = offset / CHUNK_SIZE; c <= (offset + len - 1) / CHUNK_SIZE; c++) {
                int w = (int) (c >>> 6);
                long bit = 1L << (c & 63);
                log.getAndAccumulate(w, bit, (a, b) -> a | b);
            }
        }
    }

    @Override
    public long syncDirtyChunks(long[] bitmap) {
        long n = 0;
        for (int i = 0; i < bitmap.length && i < log.length(); i++) {
            long w = log.getAndSet(i, 0);
            n += Long.bitCount(w & ~bitmap[i]);
            bitmap[i] |= w;
        }
        return n;
    }

    @Override
    public AutoCloseable hold(String by) {
        if (!holder.compareAndSet(null, by)) {
            throw new IllegalStateException("drive " + name + " is held by " + holder.get());
        }
        return () -> holder.set(null);
    }

    /** Who holds the drive now, or null. */
    public String holder() {
        return holder.get();
    }

    /** A plain SHA-256 of the content (not the contract's CRC-based hash): equal between test drives only. */
    @Override
    public String contentHash() throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        ByteBuffer b = ByteBuffer.allocate(CHUNK_SIZE);
        for (long pos = 0; pos < size(); pos += CHUNK_SIZE) {
            b.clear().limit((int) Math.min(CHUNK_SIZE, size() - pos));
            image.read(pos, b);
            b.flip();
            md.update(b);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
