package org.savevm.image.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The qcow2 header (docs/interop/qcow2.txt "Header") with its header extensions and the backing file name, parsed
 * from the first cluster of an untrusted file: every field is checked before anything is sized from it, and every
 * error names the file and the byte offset of the field.
 */
public final class Qcow2Header {
    public static final int MAGIC = 0x514649fb; // "QFI\xfb"
    public static final int MIN_CLUSTER_BITS = 9;
    /** QEMU's MAX_CLUSTER_BITS (2 MiB clusters). */
    public static final int MAX_CLUSTER_BITS = 21;
    /** QEMU's QCOW_MAX_L1_SIZE: 32 MiB of L1 entries. */
    public static final long MAX_L1_BYTES = 32L << 20;
    /** QEMU's QCOW_MAX_REFTABLE_SIZE: 8 MiB of refcount table. */
    public static final long MAX_REFTABLE_BYTES = 8L << 20;
    public static final int V2_HEADER_LENGTH = 72;
    /** Header length of the version 3 images QEMU 7.2 and we write (fields up to compression_type, padded). */
    public static final int V3_HEADER_LENGTH = 112;
    public static final int MAX_BACKING_NAME = 1023;

    // byte offsets of the fields
    static final int OFF_BACKING_FILE_OFFSET = 8;
    static final int OFF_CLUSTER_BITS = 20;
    static final int OFF_SIZE = 24;
    static final int OFF_CRYPT_METHOD = 32;
    /** l1_size (4) and l1_table_offset (8): adjacent, rewritten together when the L1 table moves. */
    public static final int OFF_L1_SIZE = 36;
    static final int OFF_L1_TABLE_OFFSET = 40;
    /** refcount_table_offset (8) and refcount_table_clusters (4): rewritten together when the table moves. */
    public static final int OFF_REFCOUNT_TABLE_OFFSET = 48;
    public static final int OFF_NB_SNAPSHOTS = 60;
    public static final int OFF_SNAPSHOTS_OFFSET = 64;
    static final int OFF_INCOMPATIBLE = 72;
    static final int OFF_COMPATIBLE = 80;
    public static final int OFF_AUTOCLEAR = 88;
    static final int OFF_REFCOUNT_ORDER = 96;
    static final int OFF_HEADER_LENGTH = 100;
    static final int OFF_COMPRESSION_TYPE = 104;

    // header extension types
    public static final int EXT_END = 0;
    public static final int EXT_BACKING_FORMAT = 0xe2792aca;
    public static final int EXT_FEATURE_TABLE = 0x6803f857;
    public static final int EXT_BITMAPS = 0x23852875;
    public static final int EXT_CRYPTO_HEADER = 0x0537be77;
    public static final int EXT_DATA_FILE = 0x44415441;

    // incompatible feature bits
    public static final int INCOMPAT_DIRTY = 0;
    public static final int INCOMPAT_CORRUPT = 1;
    public static final int INCOMPAT_DATA_FILE = 2;
    public static final int INCOMPAT_COMPRESSION = 3;
    public static final int INCOMPAT_EXTL2 = 4;
    static final String[] INCOMPAT_NAMES = { "dirty bit", "corrupt bit", "external data file", "compression type",
            "extended L2 entries" };

    public final int version;
    public final int clusterBits;
    public final long size;
    public final int cryptMethod;
    public final int l1Size;
    public final long l1TableOffset;
    public final long refcountTableOffset;
    public final int refcountTableClusters;
    public final int nbSnapshots;
    public final long snapshotsOffset;
    public final long incompatibleFeatures;
    public final long compatibleFeatures;
    public final long autoclearFeatures;
    public final int refcountOrder;
    public final int headerLength;
    public final int compressionType;
    public final Optional<String> backingFile;
    public final Optional<String> backingFormat;
    /** Feature name table entries (type, bit, name), for error messages about features we do not know. */
    public final List<FeatureName> featureNames;

    public record FeatureName(int type, int bit, String name) {
    }

    private Qcow2Header(Builder b) {
        this.version = b.version;
        this.clusterBits = b.clusterBits;
        this.size = b.size;
        this.cryptMethod = b.cryptMethod;
        this.l1Size = b.l1Size;
        this.l1TableOffset = b.l1TableOffset;
        this.refcountTableOffset = b.refcountTableOffset;
        this.refcountTableClusters = b.refcountTableClusters;
        this.nbSnapshots = b.nbSnapshots;
        this.snapshotsOffset = b.snapshotsOffset;
        this.incompatibleFeatures = b.incompatibleFeatures;
        this.compatibleFeatures = b.compatibleFeatures;
        this.autoclearFeatures = b.autoclearFeatures;
        this.refcountOrder = b.refcountOrder;
        this.headerLength = b.headerLength;
        this.compressionType = b.compressionType;
        this.backingFile = Optional.ofNullable(b.backingFile);
        this.backingFormat = Optional.ofNullable(b.backingFormat);
        this.featureNames = List.copyOf(b.featureNames);
    }

    public int clusterSize() {
        return 1 << clusterBits;
    }

    /** Entries of one L2 table (standard 8-byte entries). */
    public int l2Entries() {
        return 1 << (clusterBits - 3);
    }

    /** L1 entries needed to map {@code size} bytes with this cluster size. */
    public static long l1EntriesFor(long size, int clusterBits) {
        long perL1 = 1L << (clusterBits + clusterBits - 3);
        return (size + perL1 - 1) / perL1;
    }

    /**
     * Parses and checks the header in {@code cluster0} (the file's first bytes, at most one cluster; the buffer may be
     * shorter when the file is). {@code fileSize} bounds every table offset.
     */
    public static Qcow2Header parse(Path file, ByteBuffer cluster0, long fileSize) throws IOException {
        ByteBuffer h = cluster0.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
        int avail = h.remaining();
        if (avail < V2_HEADER_LENGTH) {
            throw err(file, 0, "truncated qcow2 header: " + avail + " bytes, need at least " + V2_HEADER_LENGTH);
        }
        if (h.getInt(0) != MAGIC) {
            throw err(file, 0, String.format("not a qcow2 image (magic 0x%08x)", h.getInt(0)));
        }
        Builder b = new Builder();
        b.version = h.getInt(4);
        if (b.version != 2 && b.version != 3) {
            throw err(file, 4, "unsupported qcow2 version " + Integer.toUnsignedString(b.version) + " (2 and 3 are)");
        }
        b.clusterBits = h.getInt(OFF_CLUSTER_BITS);
        if (b.clusterBits < MIN_CLUSTER_BITS || b.clusterBits > MAX_CLUSTER_BITS) {
            throw err(file, OFF_CLUSTER_BITS, "cluster_bits " + Integer.toUnsignedString(b.clusterBits)
                    + " out of range [" + MIN_CLUSTER_BITS + ", " + MAX_CLUSTER_BITS + "]");
        }
        int clusterSize = 1 << b.clusterBits;
        if (b.version == 3) {
            if (avail < 104) {
                throw err(file, 0, "truncated qcow2 version 3 header: " + avail + " bytes, need at least 104");
            }
            b.headerLength = h.getInt(OFF_HEADER_LENGTH);
            if (b.headerLength < 104 || b.headerLength % 8 != 0 || b.headerLength > clusterSize) {
                throw err(file, OFF_HEADER_LENGTH, "bad header_length " + Integer.toUnsignedString(b.headerLength)
                        + " (a multiple of 8, at least 104, at most the cluster size " + clusterSize + ")");
            }
            if (avail < b.headerLength) {
                throw err(file, 0, "truncated qcow2 header: " + avail + " bytes, header_length " + b.headerLength);
            }
            b.incompatibleFeatures = h.getLong(OFF_INCOMPATIBLE);
            b.compatibleFeatures = h.getLong(OFF_COMPATIBLE);
            b.autoclearFeatures = h.getLong(OFF_AUTOCLEAR);
            b.refcountOrder = h.getInt(OFF_REFCOUNT_ORDER);
            if (b.refcountOrder < 0 || b.refcountOrder > 6) {
                throw err(file, OFF_REFCOUNT_ORDER, "refcount_order " + Integer.toUnsignedString(b.refcountOrder)
                        + " out of range [0, 6]");
            }
            b.compressionType = b.headerLength > OFF_COMPRESSION_TYPE ? h.get(OFF_COMPRESSION_TYPE) & 0xff : 0;
        } else {
            b.headerLength = V2_HEADER_LENGTH;
            b.refcountOrder = 4;
        }
        b.size = h.getLong(OFF_SIZE);
        if (b.size < 0 || b.size > (1L << 61)) {
            throw err(file, OFF_SIZE, "virtual size " + Long.toUnsignedString(b.size) + " out of range");
        }
        b.cryptMethod = h.getInt(OFF_CRYPT_METHOD);
        b.l1Size = h.getInt(OFF_L1_SIZE);
        b.l1TableOffset = h.getLong(OFF_L1_TABLE_OFFSET);
        b.refcountTableOffset = h.getLong(OFF_REFCOUNT_TABLE_OFFSET);
        b.refcountTableClusters = h.getInt(OFF_REFCOUNT_TABLE_OFFSET + 8);
        b.nbSnapshots = h.getInt(OFF_NB_SNAPSHOTS);
        b.snapshotsOffset = h.getLong(OFF_SNAPSHOTS_OFFSET);

        long l1Bytes = Integer.toUnsignedLong(b.l1Size) * 8;
        if (l1Bytes > MAX_L1_BYTES) {
            throw err(file, OFF_L1_SIZE, "L1 table of " + Integer.toUnsignedString(b.l1Size)
                    + " entries is larger than " + (MAX_L1_BYTES >> 20) + " MiB");
        }
        if (b.l1Size < l1EntriesFor(b.size, b.clusterBits)) {
            throw err(file, OFF_L1_SIZE, "L1 table of " + b.l1Size + " entries is too small for virtual size " + b.size);
        }
        checkTable(file, OFF_L1_TABLE_OFFSET, "L1 table", b.l1TableOffset, l1Bytes, clusterSize, fileSize);
        long refTableBytes = Integer.toUnsignedLong(b.refcountTableClusters) * clusterSize;
        if (b.refcountTableClusters == 0 || refTableBytes > MAX_REFTABLE_BYTES) {
            throw err(file, OFF_REFCOUNT_TABLE_OFFSET + 8, "refcount table of "
                    + Integer.toUnsignedString(b.refcountTableClusters) + " clusters is empty or larger than "
                    + (MAX_REFTABLE_BYTES >> 20) + " MiB");
        }
        checkTable(file, OFF_REFCOUNT_TABLE_OFFSET, "refcount table", b.refcountTableOffset, refTableBytes,
                clusterSize, fileSize);
        if (b.nbSnapshots < 0 || b.nbSnapshots > 65536) {
            throw err(file, OFF_NB_SNAPSHOTS, "snapshot count " + Integer.toUnsignedString(b.nbSnapshots)
                    + " out of range");
        }
        if (b.nbSnapshots > 0) {
            checkTable(file, OFF_SNAPSHOTS_OFFSET, "snapshot table", b.snapshotsOffset, 40, clusterSize, fileSize);
        }

        long backingOffset = h.getLong(OFF_BACKING_FILE_OFFSET);
        if (backingOffset != 0) {
            int backingSize = h.getInt(16);
            if (backingSize < 0 || backingSize > MAX_BACKING_NAME) {
                throw err(file, 16, "backing file name of " + Integer.toUnsignedString(backingSize)
                        + " bytes is longer than " + MAX_BACKING_NAME);
            }
            if (backingOffset < b.headerLength || backingOffset + backingSize > Math.min(clusterSize, avail)) {
                throw err(file, OFF_BACKING_FILE_OFFSET, "backing file name at " + backingOffset + " (+"
                        + backingSize + ") lies outside the first cluster");
            }
            byte[] name = new byte[backingSize];
            h.get((int) backingOffset, name);
            b.backingFile = new String(name, StandardCharsets.UTF_8);
            if (b.backingFile.isEmpty() || b.backingFile.indexOf('\0') >= 0) {
                throw err(file, backingOffset, "empty or NUL-containing backing file name");
            }
        }
        parseExtensions(file, h, b, Math.min(clusterSize, avail), backingOffset == 0 ? Long.MAX_VALUE : backingOffset);
        Qcow2Header header = new Qcow2Header(b);
        header.checkFeatures(file);
        return header;
    }

    private static void parseExtensions(Path file, ByteBuffer h, Builder b, int end, long backingOffset)
            throws IOException {
        int at = b.headerLength;
        int seen = 0;
        while (true) {
            if (at + 8 > end || at >= backingOffset) {
                // no end marker before the backing name or the end of the cluster: QEMU treats this as the end
                return;
            }
            int type = h.getInt(at);
            long len = Integer.toUnsignedLong(h.getInt(at + 4));
            if (type == EXT_END) {
                return;
            }
            if (len > end - at - 8) {
                throw err(file, at + 4, String.format("header extension 0x%08x of %d bytes runs past the first "
                        + "cluster", type, len));
            }
            int data = at + 8;
            if (++seen > 1024) {
                throw err(file, at, "too many header extensions");
            }
            switch (type) {
                case EXT_BACKING_FORMAT: {
                    if (len == 0 || len > 15) {
                        throw err(file, at + 4, "backing format name of " + len + " bytes (1 to 15)");
                    }
                    byte[] name = new byte[(int) len];
                    h.get(data, name);
                    b.backingFormat = new String(name, StandardCharsets.US_ASCII);
                    break;
                }
                case EXT_FEATURE_TABLE:
                    for (int e = data; e + 48 <= data + len; e += 48) {
                        byte[] name = new byte[46];
                        h.get(e + 2, name);
                        int n = 0;
                        while (n < name.length && name[n] != 0) {
                            n++;
                        }
                        b.featureNames.add(new FeatureName(h.get(e) & 0xff, h.get(e + 1) & 0xff,
                                new String(name, 0, n, StandardCharsets.UTF_8)));
                    }
                    break;
                case EXT_DATA_FILE:
                    throw err(file, at, "images with an external data file are not supported");
                case EXT_CRYPTO_HEADER:
                    throw err(file, at, "encrypted images are not supported");
                default:
                    // bitmaps and unknown extensions: ignored (bitmaps are dropped by clearing autoclear bit 0)
                    break;
            }
            at = data + (int) ((len + 7) & ~7L);
        }
    }

    private void checkFeatures(Path file) throws IOException {
        if (cryptMethod != 0) {
            throw err(file, OFF_CRYPT_METHOD, "encrypted images are not supported (crypt_method "
                    + Integer.toUnsignedString(cryptMethod) + ")");
        }
        long unsupported = incompatibleFeatures & ~((1L << INCOMPAT_DIRTY) | (1L << INCOMPAT_CORRUPT));
        if (unsupported != 0) {
            int bit = Long.numberOfTrailingZeros(unsupported);
            throw err(file, OFF_INCOMPATIBLE, "unsupported incompatible feature bit " + bit + " ("
                    + featureName(0, bit) + ")");
        }
        if (compressionType != 0) {
            throw err(file, OFF_COMPRESSION_TYPE, "unsupported compression type " + compressionType
                    + " (only zlib)");
        }
    }

    /** The feature's name from the image's feature table, else ours, else "unknown". */
    public String featureName(int type, int bit) {
        for (FeatureName f : featureNames) {
            if (f.type() == type && f.bit() == bit) {
                return f.name();
            }
        }
        if (type == 0 && bit < INCOMPAT_NAMES.length) {
            return INCOMPAT_NAMES[bit];
        }
        return "unknown feature";
    }

    public boolean dirty() {
        return (incompatibleFeatures & (1L << INCOMPAT_DIRTY)) != 0;
    }

    public boolean corrupt() {
        return (incompatibleFeatures & (1L << INCOMPAT_CORRUPT)) != 0;
    }

    private static void checkTable(Path file, long fieldOffset, String what, long offset, long bytes,
            int clusterSize, long fileSize) throws IOException {
        if (offset <= 0 || (offset & (clusterSize - 1)) != 0) {
            throw err(file, fieldOffset, what + " offset " + Long.toUnsignedString(offset)
                    + " is not a non-zero multiple of the cluster size " + clusterSize);
        }
        if (offset > fileSize || bytes > fileSize - offset) {
            throw err(file, fieldOffset, what + " at " + offset + " (+" + bytes + " bytes) lies past the end of the "
                    + "file (" + fileSize + " bytes)");
        }
    }

    static IOException err(Path file, long offset, String msg) {
        return new Qcow2FormatException(file + ": " + msg + " (header byte offset " + offset + ")");
    }

    /** Bytes of a new version 3 header cluster: header, extensions, backing file name (what qemu-img create writes). */
    static ByteBuffer encodeNew(int clusterBits, long size, int l1Size, long l1Offset, long refTableOffset,
            int refTableClusters, Optional<String> backingFile, Optional<String> backingFormat) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(1 << clusterBits);
        h.putInt(0, MAGIC).putInt(4, 3);
        h.putInt(OFF_CLUSTER_BITS, clusterBits).putLong(OFF_SIZE, size).putInt(OFF_L1_SIZE, l1Size)
                .putLong(OFF_L1_TABLE_OFFSET, l1Offset).putLong(OFF_REFCOUNT_TABLE_OFFSET, refTableOffset)
                .putInt(OFF_REFCOUNT_TABLE_OFFSET + 8, refTableClusters).putInt(OFF_REFCOUNT_ORDER, 4)
                .putInt(OFF_HEADER_LENGTH, V3_HEADER_LENGTH);
        h.position(V3_HEADER_LENGTH);
        if (backingFormat.isPresent()) {
            byte[] f = backingFormat.get().getBytes(StandardCharsets.US_ASCII);
            h.putInt(EXT_BACKING_FORMAT).putInt(f.length).put(f);
            h.position((h.position() + 7) & ~7);
        }
        // the feature name table, as QEMU writes it, so that other tools can name our bits
        String[][] features = { { "0", "0", "dirty bit" }, { "0", "1", "corrupt bit" },
                { "0", "2", "external data file" }, { "0", "3", "compression type" },
                { "0", "4", "extended L2 entries" }, { "1", "0", "lazy refcounts" }, { "2", "0", "bitmaps" },
                { "2", "1", "raw external data" } };
        h.putInt(EXT_FEATURE_TABLE).putInt(features.length * 48);
        for (String[] f : features) {
            int start = h.position();
            h.put(Byte.parseByte(f[0])).put(Byte.parseByte(f[1])).put(f[2].getBytes(StandardCharsets.US_ASCII));
            h.position(start + 48);
        }
        h.putInt(EXT_END).putInt(0);
        if (backingFile.isPresent()) {
            byte[] name = backingFile.get().getBytes(StandardCharsets.UTF_8);
            if (name.length == 0 || name.length > MAX_BACKING_NAME || h.position() + name.length > h.capacity()) {
                throw new IOException("backing file name of " + name.length + " bytes does not fit (1 to "
                        + MAX_BACKING_NAME + ")");
            }
            h.putLong(OFF_BACKING_FILE_OFFSET, h.position()).putInt(16, name.length);
            h.put(name);
        }
        h.clear();
        return h;
    }

    private static final class Builder {
        int version;
        int clusterBits;
        long size;
        int cryptMethod;
        int l1Size;
        long l1TableOffset;
        long refcountTableOffset;
        int refcountTableClusters;
        int nbSnapshots;
        long snapshotsOffset;
        long incompatibleFeatures;
        long compatibleFeatures;
        long autoclearFeatures;
        int refcountOrder;
        int headerLength;
        int compressionType;
        String backingFile;
        String backingFormat;
        final List<FeatureName> featureNames = new ArrayList<>();
    }
}
