package org.savevm.machine.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

import org.savevm.api.block.BlockDrive;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.DriveSpec;

/**
 * A disk of the machine: an image under a device name, with the dirty log QEMU's block migration keeps per
 * 1 MiB chunk. A guest write marks its chunks after the data is in the image, so a sync that comes between
 * the write and the mark only delays the chunk to the next sync and never loses it.
 */
public final class MachineDrive implements BlockDrive, AutoCloseable {
    private final String name;
    private final BlockImage image;
    private final boolean readOnly;
    /** Replaced (bits carried over) when the image's size changed: {@link #dirtyLog}. */
    private volatile AtomicLongArray dirty;
    /** The holders (migrations, snapshots) that keep the drive from being resized or detached. */
    private final List<String> holders = new ArrayList<>();
    private boolean detached;

    public MachineDrive(String name, BlockImage image, boolean readOnly) {
        DriveSpec.checkId(name);
        this.name = name;
        this.image = Objects.requireNonNull(image, "image");
        this.readOnly = readOnly || image.readOnly();
        this.dirty = new AtomicLongArray((int) ((chunksOf(image.size()) + 63) / 64));
    }

    private static long chunksOf(long size) {
        long chunks = (size + CHUNK_SIZE - 1) / CHUNK_SIZE;
        if (chunks / 64 >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("disk of " + size + " bytes is too big");
        }
        return chunks;
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
        return readOnly;
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (readOnly) {
            throw new IOException("drive '" + name + "' is read-only");
        }
        int len = src.remaining();
        if (offset < 0 || len < 0 || offset > size() - len) {
            throw new IOException("drive '" + name + "': write of " + len + " bytes at " + offset
                    + " is outside its " + size() + " bytes");
        }
        if (len == 0) {
            return;
        }
        writeGate.readLock().lock();
        try {
            image.write(offset, src);
        } finally {
            writeGate.readLock().unlock();
        }
        markDirty(offset, len);
    }

    /** Guest writes share it; {@link #holdWrites} takes it alone (a live snapshot's instant). */
    private final java.util.concurrent.locks.ReentrantReadWriteLock writeGate =
            new java.util.concurrent.locks.ReentrantReadWriteLock();

    @Override
    public AutoCloseable holdWrites() {
        writeGate.writeLock().lock();
        return () -> writeGate.writeLock().unlock();
    }

    /** Marks the chunks of {@code [offset, offset+len)} dirty (also for writes that bypassed {@link #write}). */
    public void markDirty(long offset, long len) {
        AtomicLongArray dirty = dirtyLog();
        long first = offset / CHUNK_SIZE;
        long last = (offset + len - 1) / CHUNK_SIZE;
        for (long c = first; c <= last; c++) {
            int word = (int) (c >>> 6);
            long bit = 1L << (c & 63);
            long old;
            do {
                old = dirty.get(word);
            } while ((old & bit) == 0 && !dirty.compareAndSet(word, old, old | bit));
        }
    }

    @Override
    public long syncDirtyChunks(long[] bitmap) {
        AtomicLongArray dirty = dirtyLog();
        int words = dirty.length();
        if (bitmap.length < words) {
            throw new IllegalArgumentException("dirty bitmap of " + bitmap.length + " words for " + words + " needed");
        }
        long newly = 0;
        for (int w = 0; w < words; w++) {
            long bits = dirty.getAndSet(w, 0);
            if (bits != 0) {
                newly += Long.bitCount(bits & ~bitmap[w]);
                bitmap[w] |= bits;
            }
        }
        return newly;
    }

    @Override
    public AutoCloseable hold(String holder) {
        synchronized (holders) {
            if (detached) {
                throw new IllegalStateException("drive '" + name + "' has been detached");
            }
            holders.add(holder);
        }
        return new AutoCloseable() {
            private boolean released;

            @Override
            public void close() {
                synchronized (holders) {
                    if (!released) {
                        released = true;
                        holders.remove(holder);
                    }
                }
            }
        };
    }

    /** Who holds the drive now. */
    public List<String> holders() {
        synchronized (holders) {
            return List.copyOf(holders);
        }
    }

    /**
     * Detaches the drive from the machine (QEMU's drive_del): refused while a migration or snapshot holds it,
     * as a block migration of a disk that disappears cannot finish.
     */
    public void detach() throws IOException {
        synchronized (holders) {
            checkNotHeld();
            detached = true;
        }
        image.close();
    }

    /**
     * Resizes the image and the dirty log (QEMU's block_resize): refused while held, as QEMU's block migration
     * blocks every operation on the node it migrates.
     */
    public void resize(long newSize) throws IOException {
        if (newSize <= 0 || newSize % SECTOR_SIZE != 0) {
            throw new IllegalArgumentException("drive '" + name + "': new size " + newSize
                    + " is not a positive multiple of " + SECTOR_SIZE);
        }
        synchronized (holders) {
            checkNotHeld();
            image.resize(newSize);
            dirtyLog();
        }
    }

    /**
     * The dirty log, sized for the image as it is now: besides {@link #resize}, reverting an internal snapshot taken
     * at another size resizes the image under the drive (loadvm, while the snapshot holds it and the guest is
     * stopped). The bits of the chunks both sizes have are kept.
     */
    private AtomicLongArray dirtyLog() {
        AtomicLongArray log = dirty;
        int words = (int) ((chunksOf(image.size()) + 63) / 64);
        if (log.length() == words) {
            return log;
        }
        synchronized (holders) {
            log = dirty;
            if (log.length() != words) {
                AtomicLongArray sized = new AtomicLongArray(words);
                for (int w = 0; w < Math.min(log.length(), words); w++) {
                    sized.set(w, log.get(w));
                }
                dirty = sized;
                log = sized;
            }
            return log;
        }
    }

    /** QEMU's op-blocker error: "Node 'disk0' is busy: block device is in use by migration". */
    private void checkNotHeld() {
        if (detached) {
            throw new IllegalStateException("drive '" + name + "' has been detached");
        }
        if (!holders.isEmpty()) {
            throw new IllegalStateException("Node '" + name + "' is busy: block device is in use by "
                    + String.join(", ", holders));
        }
    }

    @Override
    public String contentHash() throws IOException {
        MessageDigest md = OffHeapRamBlock.sha256Digest();
        md.update(name.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        long size = size();
        for (int i = 7; i >= 0; i--) {
            md.update((byte) (size >>> (i * 8)));
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK_SIZE);
        CRC32C crc32c = new CRC32C();
        CRC32 crc32 = new CRC32();
        ByteBuffer pair = ByteBuffer.allocate(8);
        for (long off = 0; off < size; off += CHUNK_SIZE) {
            int len = (int) Math.min(CHUNK_SIZE, size - off);
            buf.clear().limit(len);
            image.read(off, buf);
            for (int b = 0; b < len; b += HASH_BLOCK) {
                ByteBuffer block = buf.limit(Math.min(len, b + HASH_BLOCK)).position(b);
                crc32c.reset();
                crc32c.update(block.duplicate());
                crc32.reset();
                crc32.update(block);
                pair.putInt(0, (int) crc32c.getValue()).putInt(4, (int) crc32.getValue());
                md.update(pair.array());
                buf.limit(len);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The hash covers each 4 KiB block (8 sectors) by its CRCs, as the RAM hash covers each page. */
    private static final int HASH_BLOCK = 8 * SECTOR_SIZE;

    @Override
    public void close() throws IOException {
        synchronized (holders) {
            detached = true;
        }
        image.close();
    }

    @Override
    public String toString() {
        return "drive " + name + " (" + image.format().qemuName() + " " + image.path() + ", " + size() + " bytes"
                + (readOnly ? ", read-only" : "") + ")";
    }
}
