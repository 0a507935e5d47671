package org.savevm.api.vmstate;

import java.io.IOException;

import org.savevm.api.GuestTimer;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;

/**
 * The VMStateInfo types of QEMU 7.2 (migration/vmstate-types.c, the timer from savevm.c), by their
 * vmdesc names. Integers up to 32 bits travel as {@code Integer} (unsigned 8/16-bit values 0..max,
 * uint32 in two's complement), 64-bit ones as {@code Long}.
 */
public final class VMStateInfos {
    private VMStateInfos() {
    }

    /** 1 byte 0/1; any non-zero byte loads as true. */
    public static final VMStateInfo<Boolean> BOOL = new Simple<>("bool") {
        @Override
        public void put(MigrationOutput out, Boolean v, int size) {
            out.putByte(v ? 1 : 0);
        }

        @Override
        public Boolean get(MigrationInput in, Boolean cur, int size) throws IOException {
            return in.getByte() != 0;
        }
    };

    public static final VMStateInfo<Integer> INT8 = new IntInfo("int8", 1, true);
    public static final VMStateInfo<Integer> UINT8 = new IntInfo("uint8", 1, false);
    public static final VMStateInfo<Integer> INT16 = new IntInfo("int16", 2, true);
    public static final VMStateInfo<Integer> UINT16 = new IntInfo("uint16", 2, false);
    public static final VMStateInfo<Integer> INT32 = new IntInfo("int32", 4, true);
    public static final VMStateInfo<Integer> UINT32 = new IntInfo("uint32", 4, false);

    public static final VMStateInfo<Long> INT64 = new LongInfo("int64");
    public static final VMStateInfo<Long> UINT64 = new LongInfo("uint64");

    /** The loaded value must equal the current one (VMSTATE_INT32_EQUAL ...). */
    public static final VMStateInfo<Integer> INT32_EQUAL = new IntEqual("int32 equal", (IntInfo) INT32);
    public static final VMStateInfo<Integer> UINT8_EQUAL = new IntEqual("uint8 equal", (IntInfo) UINT8);
    public static final VMStateInfo<Integer> UINT16_EQUAL = new IntEqual("uint16 equal", (IntInfo) UINT16);
    public static final VMStateInfo<Integer> UINT32_EQUAL = new IntEqual("uint32 equal", (IntInfo) UINT32);
    /** uint64_equal: QEMU 7.2 names it "int64 equal". */
    public static final VMStateInfo<Long> UINT64_EQUAL = new Simple<>("int64 equal") {
        @Override
        public void put(MigrationOutput out, Long v, int size) {
            out.putBe64(v);
        }

        @Override
        public Long get(MigrationInput in, Long cur, int size) throws IOException {
            long v = in.getBe64();
            if (cur == null || v != cur) {
                throw new IOException("value " + Long.toUnsignedString(v) + " does not match the local "
                        + (cur == null ? "null" : Long.toUnsignedString(cur)));
            }
            return cur;
        }

        @Override
        public boolean storesValue() {
            return false;
        }
    };

    /** int32 le: be32 that must satisfy 0 <= loaded <= current, then is stored. */
    public static final VMStateInfo<Integer> INT32_LE = new Simple<>("int32 le") {
        @Override
        public void put(MigrationOutput out, Integer v, int size) {
            out.putBe32(v);
        }

        @Override
        public Integer get(MigrationInput in, Integer cur, int size) throws IOException {
            int v = in.getBe32();
            if (v < 0 || v > cur) {
                throw new IOException("value " + v + " is not in 0.." + cur);
            }
            return v;
        }
    };

    /** float64 (older QEMU; removed before 7.2): be64 of the IEEE bits. */
    public static final VMStateInfo<Double> FLOAT64 = new DoubleInfo("float64");
    /** CPU_Double_U: be32 upper, be32 lower, i.e. be64 of the IEEE bits. */
    public static final VMStateInfo<Double> CPU_DOUBLE = new DoubleInfo("CPU_Double_U");

    /** {@code size} raw bytes, read into the current array. */
    public static final VMStateInfo<byte[]> BUFFER = new Simple<>("buffer") {
        @Override
        public void put(MigrationOutput out, byte[] v, int size) throws IOException {
            if (v == null || v.length < size) {
                throw new IOException("buffer of " + (v == null ? 0 : v.length) + " bytes is shorter than " + size);
            }
            out.putBytes(v, 0, size);
        }

        @Override
        public byte[] get(MigrationInput in, byte[] cur, int size) throws IOException {
            if (cur == null || cur.length < size) {
                throw new IOException("stream carries " + size + " bytes but the buffer holds "
                        + (cur == null ? 0 : cur.length));
            }
            in.readFully(cur, 0, size);
            return cur;
        }
    };

    /** {@code size} zero bytes, skipped on load. */
    public static final VMStateInfo<Object> UNUSED_BUFFER = new Simple<>("unused_buffer") {
        @Override
        public void put(MigrationOutput out, Object v, int size) {
            for (int i = 0; i < size; i++) {
                out.putByte(0);
            }
        }

        @Override
        public Object get(MigrationInput in, Object cur, int size) throws IOException {
            in.skip(size);
            return cur;
        }

        @Override
        public boolean storesValue() {
            return false;
        }
    };

    /**
     * A bitmap of {@code size} bits in a {@code long[]}: ceil(size/64) be64 words, bit i in word i/64
     * at bit i%64.
     */
    public static final VMStateInfo<long[]> BITMAP = new Simple<>("bitmap") {
        @Override
        public void put(MigrationOutput out, long[] v, int nbits) throws IOException {
            int words = words(nbits);
            if (v.length < words) {
                throw new IOException("bitmap of " + v.length + " words is shorter than " + nbits + " bits");
            }
            for (int i = 0; i < words; i++) {
                out.putBe64(v[i]);
            }
        }

        @Override
        public long[] get(MigrationInput in, long[] cur, int nbits) throws IOException {
            int words = words(nbits);
            if (cur == null || cur.length < words) {
                throw new IOException("stream carries " + nbits + " bits but the bitmap holds "
                        + (cur == null ? 0 : (long) cur.length * 64));
            }
            for (int i = 0; i < words; i++) {
                cur[i] = in.getBe64();
            }
            return cur;
        }

        private int words(int nbits) {
            return (int) ((Integer.toUnsignedLong(nbits) + 63) / 64);
        }
    };

    /** A timer: be64 expiry on its clock, -1 when not armed; a load re-arms or cancels it. */
    public static final VMStateInfo<GuestTimer> TIMER = new Simple<>("timer") {
        @Override
        public void put(MigrationOutput out, GuestTimer t, int size) {
            out.putBe64(t.expireTimeNs());
        }

        @Override
        public GuestTimer get(MigrationInput in, GuestTimer t, int size) throws IOException {
            long expiry = in.getBe64();
            t.setExpireTimeNs(expiry);
            return t;
        }

        @Override
        public boolean storesValue() {
            return false;
        }
    };

    /**
     * VMSTATE_WITH_TMP: the field's descriptor runs over a temporary object the accessor creates from
     * the state (its hooks translate); no bytes of its own. Handled by the engine.
     */
    public static final VMStateInfo<Object> TMP = marker("tmp");
    /** A QTAILQ of elements of the field's descriptor: per element 0x01 + body, then 0x00. Engine-handled. */
    public static final VMStateInfo<Object> QTAILQ = marker("qtailq");
    /** A QLIST, same wire form as {@link #QTAILQ}; a load keeps the order. Engine-handled. */
    public static final VMStateInfo<Object> QLIST = marker("qlist");
    /**
     * A GTree (VMSTATE_GTREE_V / VMSTATE_GTREE_DIRECT_KEY_V): be32 node count, per node in key order
     * 0x01 + key (be64 for a direct key, else the key descriptor's body) + value body, then 0x00; the
     * markers must match the count. Engine-handled.
     */
    public static final VMStateInfo<Object> GTREE = marker("gtree");

    /** True for the infos the engine handles itself because they nest a descriptor. */
    public static boolean nestsDescriptor(VMStateInfo<?> info) {
        return info == TMP || info == QTAILQ || info == QLIST || info == GTREE;
    }

    private static VMStateInfo<Object> marker(String name) {
        return new Simple<>(name) {
            @Override
            public void put(MigrationOutput out, Object v, int size) {
                throw new UnsupportedOperationException(name + " is written by the engine");
            }

            @Override
            public Object get(MigrationInput in, Object cur, int size) {
                throw new UnsupportedOperationException(name + " is read by the engine");
            }
        };
    }

    /**
     * capability (configuration section only): u8 length + ASCII name, as a {@code String}. Loads
     * accept any name; use {@link #capability(java.util.Set)} to refuse unknown ones as QEMU does.
     */
    public static final VMStateInfo<String> CAPABILITY = capability(null);

    /** The capability info refusing names outside {@code known} ("Received unknown capability X"). */
    public static VMStateInfo<String> capability(java.util.Set<String> known) {
        return new Simple<>("capability") {
            @Override
            public void put(MigrationOutput out, String v, int size) throws IOException {
                byte[] b = v.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                if (b.length > 255) {
                    throw new IOException("capability name longer than 255 bytes: " + v);
                }
                out.putByte(b.length);
                out.putBytes(b);
            }

            @Override
            public String get(MigrationInput in, String cur, int size) throws IOException {
                String name = new String(in.readBytes(in.getByte()), java.nio.charset.StandardCharsets.US_ASCII);
                if (known != null && !known.contains(name)) {
                    throw new IOException("Received unknown capability " + org.savevm.stream.Printable.escape(name));
                }
                return name;
            }
        };
    }

    /** The NULL pointer marker: one byte 0x30. */
    public static final byte NULLPTR_MARKER = 0x30;

    /** Every standard info by its vmdesc name (used to build descriptors from JSON). */
    public static VMStateInfo<?> byName(String name) {
        for (VMStateInfo<?> i : new VMStateInfo<?>[] {BOOL, INT8, UINT8, INT16, UINT16, INT32, UINT32, INT64, UINT64,
                INT32_EQUAL, UINT8_EQUAL, UINT16_EQUAL, UINT32_EQUAL, UINT64_EQUAL, INT32_LE, FLOAT64, CPU_DOUBLE,
                BUFFER, UNUSED_BUFFER, BITMAP, TIMER}) {
            if (i.name().equals(name)) {
                return i;
            }
        }
        return null;
    }

    private abstract static class Simple<V> implements VMStateInfo<V> {
        private final String name;

        Simple(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static class IntInfo extends Simple<Integer> {
        final int bytes;
        final boolean signed;

        IntInfo(String name, int bytes, boolean signed) {
            super(name);
            this.bytes = bytes;
            this.signed = signed;
        }

        @Override
        public void put(MigrationOutput out, Integer v, int size) {
            switch (bytes) {
            case 1 -> out.putByte(v);
            case 2 -> out.putBe16(v);
            default -> out.putBe32(v);
            }
        }

        @Override
        public Integer get(MigrationInput in, Integer cur, int size) throws IOException {
            return switch (bytes) {
            case 1 -> signed ? (int) (byte) in.getByte() : in.getByte();
            case 2 -> signed ? (int) (short) in.getBe16() : in.getBe16();
            default -> in.getBe32();
            };
        }
    }

    private static final class IntEqual extends Simple<Integer> {
        private final IntInfo base;

        IntEqual(String name, IntInfo base) {
            super(name);
            this.base = base;
        }

        @Override
        public void put(MigrationOutput out, Integer v, int size) {
            base.put(out, v, size);
        }

        @Override
        public Integer get(MigrationInput in, Integer cur, int size) throws IOException {
            int v = base.get(in, cur, size);
            int local = cur == null ? 0 : cur;
            if (base.bytes == 1 && !base.signed) {
                local &= 0xff;
            } else if (base.bytes == 2 && !base.signed) {
                local &= 0xffff;
            }
            if (cur == null || v != local) {
                throw new IOException("value " + show(v) + " does not match the local " + (cur == null ? "null"
                        : show(local)));
            }
            return cur;
        }

        private String show(int v) {
            return base.bytes == 4 && !base.signed ? Integer.toUnsignedString(v) : Integer.toString(v);
        }

        @Override
        public boolean storesValue() {
            return false;
        }
    }

    private static final class LongInfo extends Simple<Long> {
        LongInfo(String name) {
            super(name);
        }

        @Override
        public void put(MigrationOutput out, Long v, int size) {
            out.putBe64(v);
        }

        @Override
        public Long get(MigrationInput in, Long cur, int size) throws IOException {
            return in.getBe64();
        }
    }

    private static final class DoubleInfo extends Simple<Double> {
        DoubleInfo(String name) {
            super(name);
        }

        @Override
        public void put(MigrationOutput out, Double v, int size) {
            out.putBe64(Double.doubleToRawLongBits(v));
        }

        @Override
        public Double get(MigrationInput in, Double cur, int size) throws IOException {
            return Double.longBitsToDouble(in.getBe64());
        }
    }
}
