package org.savevm.core.testing;

/** The state of a test device: raw section body bytes. */
public final class BlobState {
    public final byte[] data;

    public BlobState(int size) {
        this.data = new byte[size];
    }

    public BlobState(byte[] data) {
        this.data = data;
    }
}
