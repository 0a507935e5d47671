package org.savevm.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.ImageFormat;

/**
 * A test image that hands every call to another image; subclasses override what they change (the format they
 * pose as, the allocation they report, the internal snapshots they add).
 */
public abstract class ForwardingBlockImage implements BlockImage {
    protected final BlockImage delegate;

    protected ForwardingBlockImage(BlockImage delegate) {
        this.delegate = delegate;
    }

    @Override
    public Path path() {
        return delegate.path();
    }

    @Override
    public ImageFormat format() {
        return delegate.format();
    }

    @Override
    public long size() {
        return delegate.size();
    }

    @Override
    public boolean readOnly() {
        return delegate.readOnly();
    }

    @Override
    public Optional<BlockImage> backing() {
        return delegate.backing();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        delegate.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        delegate.write(offset, src);
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        delegate.writeZeroes(offset, length);
    }

    @Override
    public BlockStatus blockStatus(long offset, long maxLength) throws IOException {
        return delegate.blockStatus(offset, maxLength);
    }

    @Override
    public void flush() throws IOException {
        delegate.flush();
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
