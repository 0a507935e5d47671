package org.savevm.image.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A file channel that "crashes" at its {@code crashAt}-th write: that write and every later one fail without touching
 * the file, so the file holds exactly the writes before the crash, as after a killed process.
 */
final class CrashingChannel extends FileChannel {
    private final FileChannel file;
    private final long crashAt;
    private long writes;
    /** File offset of every write attempted, in order (to find the interesting crash points). */
    private final java.util.List<Long> positions = new java.util.ArrayList<>();

    CrashingChannel(FileChannel file, long crashAt) {
        this.file = file;
        this.crashAt = crashAt;
    }

    /** Positional reads so far. */
    long reads() {
        return reads;
    }

    private long reads;

    long writes() {
        return writes;
    }

    java.util.List<Long> positions() {
        return positions;
    }

    private void countWrite() throws IOException {
        if (++writes >= crashAt) {
            throw new IOException("injected crash at write " + writes);
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return file.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return file.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        countWrite();
        return file.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        countWrite();
        return file.write(srcs, offset, length);
    }

    @Override
    public long position() throws IOException {
        return file.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        file.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return file.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        countWrite();
        file.truncate(size);
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        file.force(metaData);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return file.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        countWrite();
        return file.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        reads++;
        return file.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        positions.add(position);
        countWrite();
        return file.write(src, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        throw new UnsupportedOperationException("map");
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }
}
