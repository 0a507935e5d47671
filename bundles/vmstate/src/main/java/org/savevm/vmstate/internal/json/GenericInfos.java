package org.savevm.vmstate.internal.json;

import java.io.IOException;

import org.savevm.api.vmstate.VMStateInfo;
import org.savevm.api.vmstate.VMStateInfos;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.vmstate.internal.VmdescMembers;

/**
 * Element codecs for descriptors built from JSON, where the state is a {@code GenericState}: every
 * value is kept as read (an {@code _equal} type stores instead of comparing, a timer is its be64
 * expiry, an unknown type is its raw bytes), and the vmdesc type name is preserved.
 */
final class GenericInfos {
    private GenericInfos() {
    }

    /** The codec for vmdesc type {@code type}; raw bytes when the type is not a plain value. */
    static VMStateInfo<?> forType(String type) {
        return switch (type) {
        case "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64" ->
            VMStateInfos.byName(type);
        case "int32 equal", "int32 le" -> renamed(type, VMStateInfos.INT32);
        case "uint8 equal" -> renamed(type, VMStateInfos.UINT8);
        case "uint16 equal" -> renamed(type, VMStateInfos.UINT16);
        case "uint32 equal" -> renamed(type, VMStateInfos.UINT32);
        case "int64 equal", "timer" -> renamed(type, VMStateInfos.UINT64);
        default -> raw(type);
        };
    }

    /**
     * What kind of value {@link #forType} keeps for {@code type} in the decoded state (the plain type it
     * decodes as, or raw bytes): two fields of one name must agree on it, as they share one value.
     */
    static String valueKind(String type) {
        return switch (type) {
        case "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64" -> type;
        case "int32 equal", "int32 le" -> "int32";
        case "uint8 equal" -> "uint8";
        case "uint16 equal" -> "uint16";
        case "uint32 equal" -> "uint32";
        case "int64 equal", "timer" -> "uint64";
        default -> "raw bytes";
        };
    }

    /**
     * The bytes one element of {@code info} (made here, declared {@code size}) reads from the stream: a plain
     * value its width whatever the declared size, raw bytes the declared size.
     */
    static long wireBytes(VMStateInfo<?> info, long size) {
        if (info instanceof RawInfo) {
            return size;
        }
        return switch (valueKind(info.name())) {
        case "bool", "int8", "uint8" -> 1;
        case "int16", "uint16" -> 2;
        case "int32", "uint32" -> 4;
        case "int64", "uint64" -> 8;
        default -> size;
        };
    }

    @SuppressWarnings("unchecked")
    private static <V> VMStateInfo<V> renamed(String name, VMStateInfo<?> base) {
        VMStateInfo<V> b = (VMStateInfo<V>) base;
        return new VMStateInfo<>() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void put(MigrationOutput out, V value, int size) throws IOException {
                b.put(out, value, size);
            }

            @Override
            public V get(MigrationInput in, V current, int size) throws IOException {
                return b.get(in, current, size);
            }
        };
    }

    /** {@code size} bytes kept as they are, whatever the type means. */
    static VMStateInfo<byte[]> raw(String name) {
        return raw(name, "");
    }

    /** Raw bytes whose vmdesc object repeats {@code members} (a child vmsd the type described itself). */
    static VMStateInfo<byte[]> raw(String name, String members) {
        return new RawInfo(name, members);
    }

    /** Raw values above this size are read in pieces of it (see RawInfo#get). */
    static final int READ_CHUNK = 1 << 20;

    private static final class RawInfo implements VMStateInfo<byte[]>, VmdescMembers {
        private final String name;
        private final String members;

        RawInfo(String name, String members) {
            this.name = name;
            this.members = members;
        }

        @Override
        public String vmdescMembers() {
        return members;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void put(MigrationOutput out, byte[] value, int size) throws IOException {
            if (value == null) {
                value = new byte[size];
            }
            if (value.length != size) {
                throw new IOException("raw value of " + value.length + " bytes, field size " + size);
            }
            out.putBytes(value);
        }

        @Override
        public byte[] get(MigrationInput in, byte[] current, int size) throws IOException {
            if (size <= READ_CHUNK) {
                byte[] b = new byte[size];
                in.readFully(b);
                return b;
            }
            // a size from untrusted JSON (up to the 64 MiB field limit): memory follows the bytes that arrive,
            // a short stream fails after at most one chunk instead of after allocating the whole size
            java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream(READ_CHUNK);
            byte[] chunk = new byte[READ_CHUNK];
            for (int left = size; left > 0;) {
                int k = Math.min(left, READ_CHUNK);
                in.readFully(chunk, 0, k);
                read.write(chunk, 0, k);
                left -= k;
            }
            return read.toByteArray();
        }
    }
}
