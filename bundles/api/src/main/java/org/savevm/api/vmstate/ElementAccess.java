package org.savevm.api.vmstate;

import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.ObjIntConsumer;
import java.util.function.ToIntFunction;

/**
 * How the engine reaches the elements of one field on the state object: the Java replacement for
 * QEMU's offsets and pointers. A single field ignores the index; arrays index into a Java array or list.
 */
public interface ElementAccess<T> {
    /** The element at {@code index}; null is a NULL pointer (written as the 0x30 marker when allowed). */
    Object get(T state, int index);

    /** Stores a loaded element. */
    void set(T state, int index, Object value);

    /**
     * How many elements the state can hold right now, checked before a load writes into it
     * ({@link Integer#MAX_VALUE} when unbounded).
     */
    default int capacity(T state) {
        return Integer.MAX_VALUE;
    }

    /**
     * QEMU's VMS_ALLOC: makes room for {@code count} elements of {@code elementSize} bytes before a load.
     * Only called for fields built with alloc, after the engine checked the sizes against its limits.
     */
    default void allocate(T state, int count, int elementSize) {
        throw new UnsupportedOperationException("field cannot allocate");
    }

    /**
     * True when {@link #allocate} leaves {@code count} elements ready to load into, as an allocating
     * struct field (VMSTATE_STRUCT_VARRAY_ALLOC) needs; the plain accessors answer false.
     */
    default boolean allocates() {
        return false;
    }

    /**
     * Elements of an object array member of structs that VMS_ALLOC replaces on load: {@code set} stores
     * a new array from {@code newArray} whose {@code count} slots hold fresh elements from
     * {@code factory} (QEMU's g_malloc of count × sizeof), for the load to fill.
     */
    static <T, E> ElementAccess<T> ofStructArray(Function<T, E[]> array, BiConsumer<T, E[]> set,
            java.util.function.IntFunction<E[]> newArray, java.util.function.Supplier<E> factory) {
        ElementAccess<T> plain = ofArray(array);
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                return plain.get(state, index);
            }

            @Override
            public void set(T state, int index, Object value) {
                plain.set(state, index, value);
            }

            @Override
            public int capacity(T state) {
                return plain.capacity(state);
            }

            @Override
            public void allocate(T state, int count, int elementSize) {
                E[] a = newArray.apply(count);
                for (int i = 0; i < count; i++) {
                    a[i] = factory.get();
                }
                set.accept(state, a);
            }

            @Override
            public boolean allocates() {
                return true;
            }
        };
    }

    /** A single value read by {@code getter} and written by {@code setter} (null: loads do not store). */
    static <T> ElementAccess<T> of(Function<T, ?> getter, BiConsumer<T, Object> setter) {
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                return getter.apply(state);
            }

            @Override
            public void set(T state, int index, Object value) {
                if (setter != null) {
                    setter.accept(state, value);
                }
            }
        };
    }

    /** A single int-typed member. */
    static <T> ElementAccess<T> ofInt(ToIntFunction<T> getter, ObjIntConsumer<T> setter) {
        return of(getter::applyAsInt, setter == null ? null : (s, v) -> setter.accept(s, (Integer) v));
    }

    /** Elements of an {@code int[]} member (int8 to uint32 arrays); {@code alloc} replaces it on VMS_ALLOC. */
    static <T> ElementAccess<T> ofIntArray(Function<T, int[]> array, BiConsumer<T, int[]> alloc) {
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                return array.apply(state)[index];
            }

            @Override
            public void set(T state, int index, Object value) {
                array.apply(state)[index] = (Integer) value;
            }

            @Override
            public int capacity(T state) {
                int[] a = array.apply(state);
                return a == null ? 0 : a.length;
            }

            @Override
            public void allocate(T state, int count, int elementSize) {
                alloc.accept(state, new int[count]);
            }
        };
    }

    /** Elements of a {@code long[]} member (int64/uint64 arrays). */
    static <T> ElementAccess<T> ofLongArray(Function<T, long[]> array, BiConsumer<T, long[]> alloc) {
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                return array.apply(state)[index];
            }

            @Override
            public void set(T state, int index, Object value) {
                array.apply(state)[index] = (Long) value;
            }

            @Override
            public int capacity(T state) {
                long[] a = array.apply(state);
                return a == null ? 0 : a.length;
            }

            @Override
            public void allocate(T state, int count, int elementSize) {
                alloc.accept(state, new long[count]);
            }
        };
    }

    /** Elements of a {@code byte[]} member as unsigned (uint8) or signed (int8) integers. */
    static <T> ElementAccess<T> ofByteArray(Function<T, byte[]> array, boolean signed, BiConsumer<T, byte[]> alloc) {
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                byte b = array.apply(state)[index];
                return signed ? (int) b : b & 0xff;
            }

            @Override
            public void set(T state, int index, Object value) {
                array.apply(state)[index] = (byte) (int) (Integer) value;
            }

            @Override
            public int capacity(T state) {
                byte[] a = array.apply(state);
                return a == null ? 0 : a.length;
            }

            @Override
            public void allocate(T state, int count, int elementSize) {
                alloc.accept(state, new byte[count]);
            }
        };
    }

    /** Elements of a {@code boolean[]} member. */
    static <T> ElementAccess<T> ofBoolArray(Function<T, boolean[]> array) {
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                return array.apply(state)[index];
            }

            @Override
            public void set(T state, int index, Object value) {
                array.apply(state)[index] = (Boolean) value;
            }

            @Override
            public int capacity(T state) {
                return array.apply(state).length;
            }
        };
    }

    /** Elements of an object array member (structs, array of pointers, timers); null slots are NULL pointers. */
    static <T, E> ElementAccess<T> ofArray(Function<T, E[]> array) {
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                return array.apply(state)[index];
            }

            @SuppressWarnings("unchecked")
            @Override
            public void set(T state, int index, Object value) {
                ((Object[]) array.apply(state))[index] = value;
            }

            @Override
            public int capacity(T state) {
                E[] a = array.apply(state);
                return a == null ? 0 : a.length;
            }
        };
    }

    /**
     * Elements of a (mutable) list member; VMS_ALLOC makes it hold {@code count} null elements for the
     * load to fill.
     */
    static <T, E> ElementAccess<T> ofList(Function<T, List<E>> list) {
        return new ElementAccess<>() {
            @Override
            public void allocate(T state, int count, int elementSize) {
                List<E> l = list.apply(state);
                l.clear();
                for (int i = 0; i < count; i++) {
                    l.add(null);
                }
            }

            @Override
            public Object get(T state, int index) {
                return list.apply(state).get(index);
            }

            @SuppressWarnings("unchecked")
            @Override
            public void set(T state, int index, Object value) {
                list.apply(state).set(index, (E) value);
            }

            @Override
            public int capacity(T state) {
                return list.apply(state).size();
            }
        };
    }

    /**
     * {@code base} shifted by {@code start} elements: QEMU's sub-array offsets (VMSTATE_SUB_ARRAY,
     * VMSTATE_STRUCT_SUB_ARRAY), element i of the field being element start + i of the member.
     */
    static <T> ElementAccess<T> from(int start, ElementAccess<T> base) {
        if (start < 0) {
            throw new IllegalArgumentException("negative start " + start);
        }
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                return base.get(state, start + index);
            }

            @Override
            public void set(T state, int index, Object value) {
                base.set(state, start + index, value);
            }

            @Override
            public int capacity(T state) {
                return Math.max(0, base.capacity(state) - start);
            }
        };
    }

    /**
     * Bytes {@code start .. start+length-1} of a byte array member (VMSTATE_BUFFER_START_MIDDLE): a save
     * writes that range, a load copies what it read back into it.
     */
    static <T> ElementAccess<T> ofBufferRange(Function<T, byte[]> buffer, int start, int length) {
        if (start < 0 || length < 0) {
            throw new IllegalArgumentException("bad range " + start + "+" + length);
        }
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                byte[] b = buffer.apply(state);
                if (b == null || b.length < start + length) {
                    return null;
                }
                return java.util.Arrays.copyOfRange(b, start, start + length);
            }

            @Override
            public void set(T state, int index, Object value) {
                System.arraycopy((byte[]) value, 0, buffer.apply(state), start, length);
            }
        };
    }

    /** A byte buffer member read in place; with {@code alloc}, VMS_ALLOC replaces it with a new array. */
    static <T> ElementAccess<T> ofBuffer(Function<T, byte[]> buffer, BiConsumer<T, byte[]> alloc) {
        return new ElementAccess<>() {
            @Override
            public Object get(T state, int index) {
                return buffer.apply(state);
            }

            @Override
            public void set(T state, int index, Object value) {
                if (value != buffer.apply(state) && alloc != null) {
                    alloc.accept(state, (byte[]) value);
                }
            }

            @Override
            public void allocate(T state, int count, int elementSize) {
                alloc.accept(state, new byte[Math.multiplyExact(count, elementSize)]);
            }
        };
    }
}
