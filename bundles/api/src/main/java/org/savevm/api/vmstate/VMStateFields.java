package org.savevm.api.vmstate;

import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.ObjDoubleConsumer;
import java.util.function.ObjIntConsumer;
import java.util.function.ObjLongConsumer;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;

import org.savevm.api.GuestTimer;

/**
 * Field factories named after QEMU's VMSTATE_* macros, with getter/setter lambdas instead of offsets.
 * Use {@link VMStateField#since(int)} for the {@code _V} variants and {@link VMStateField#when} for
 * {@code _TEST}; {@link VMStateField#builder} covers every other combination of flags.
 */
public final class VMStateFields {
    private VMStateFields() {
    }

    /**
     * QEMU's {@code _V} macros: {@code field} exists from stream version {@code version} on. A static
     * wrapper so that lambdas in the wrapped factory still infer the state type.
     */
    public static <T> VMStateField<T> since(int version, VMStateField<T> field) {
        return field.since(version);
    }

    /** QEMU's err_hint: {@code field} with a hint added to its load errors (static, like {@link #since}). */
    public static <T> VMStateField<T> hint(String hint, VMStateField<T> field) {
        return field.hint(hint);
    }

    /** QEMU's {@code _TEST} macros: {@code field} exists when {@code test(state, version)} holds. */
    public static <T> VMStateField<T> when(java.util.function.BiPredicate<T, Integer> test, VMStateField<T> field) {
        return field.when(test);
    }

    private static <T> VMStateField<T> single(String name, VMStateInfo<?> info, int size, ElementAccess<T> a) {
        return VMStateField.<T>builder(name).info(info, size).access(a).build();
    }

    public static <T> VMStateField<T> bool(String name, Predicate<T> get, BoolSetter<T> set) {
        return single(name, VMStateInfos.BOOL, 1,
                ElementAccess.of(get::test, set == null ? null : (s, v) -> set.set(s, (Boolean) v)));
    }

    public static <T> VMStateField<T> int8(String name, ToIntFunction<T> get, ObjIntConsumer<T> set) {
        return single(name, VMStateInfos.INT8, 1, ElementAccess.ofInt(get, set));
    }

    public static <T> VMStateField<T> uint8(String name, ToIntFunction<T> get, ObjIntConsumer<T> set) {
        return single(name, VMStateInfos.UINT8, 1, ElementAccess.ofInt(s -> get.applyAsInt(s) & 0xff, set));
    }

    public static <T> VMStateField<T> int16(String name, ToIntFunction<T> get, ObjIntConsumer<T> set) {
        return single(name, VMStateInfos.INT16, 2, ElementAccess.ofInt(get, set));
    }

    public static <T> VMStateField<T> uint16(String name, ToIntFunction<T> get, ObjIntConsumer<T> set) {
        return single(name, VMStateInfos.UINT16, 2, ElementAccess.ofInt(s -> get.applyAsInt(s) & 0xffff, set));
    }

    public static <T> VMStateField<T> int32(String name, ToIntFunction<T> get, ObjIntConsumer<T> set) {
        return single(name, VMStateInfos.INT32, 4, ElementAccess.ofInt(get, set));
    }

    public static <T> VMStateField<T> uint32(String name, ToIntFunction<T> get, ObjIntConsumer<T> set) {
        return single(name, VMStateInfos.UINT32, 4, ElementAccess.ofInt(get, set));
    }

    public static <T> VMStateField<T> int64(String name, ToLongFunction<T> get, ObjLongConsumer<T> set) {
        return single(name, VMStateInfos.INT64, 8, longAccess(get, set));
    }

    public static <T> VMStateField<T> uint64(String name, ToLongFunction<T> get, ObjLongConsumer<T> set) {
        return single(name, VMStateInfos.UINT64, 8, longAccess(get, set));
    }

    /** float64 (the pre-7.2 info, be64 of the IEEE bits). */
    public static <T> VMStateField<T> float64(String name, ToDoubleFunction<T> get, ObjDoubleConsumer<T> set) {
        return single(name, VMStateInfos.FLOAT64, 8, doubleAccess(get, set));
    }

    /** VMSTATE_CPUDOUBLE (CPU_Double_U). */
    public static <T> VMStateField<T> cpuDouble(String name, ToDoubleFunction<T> get, ObjDoubleConsumer<T> set) {
        return single(name, VMStateInfos.CPU_DOUBLE, 8, doubleAccess(get, set));
    }

    public static <T> VMStateField<T> int32Equal(String name, ToIntFunction<T> get) {
        return single(name, VMStateInfos.INT32_EQUAL, 4, ElementAccess.ofInt(get, null));
    }

    public static <T> VMStateField<T> uint8Equal(String name, ToIntFunction<T> get) {
        return single(name, VMStateInfos.UINT8_EQUAL, 1, ElementAccess.ofInt(s -> get.applyAsInt(s) & 0xff, null));
    }

    public static <T> VMStateField<T> uint16Equal(String name, ToIntFunction<T> get) {
        return single(name, VMStateInfos.UINT16_EQUAL, 2,
                ElementAccess.ofInt(s -> get.applyAsInt(s) & 0xffff, null));
    }

    public static <T> VMStateField<T> uint32Equal(String name, ToIntFunction<T> get) {
        return single(name, VMStateInfos.UINT32_EQUAL, 4, ElementAccess.ofInt(get, null));
    }

    public static <T> VMStateField<T> uint64Equal(String name, ToLongFunction<T> get) {
        return single(name, VMStateInfos.UINT64_EQUAL, 8, longAccess(get, null));
    }

    /** VMSTATE_INT32_POSITIVE_LE: 0 <= loaded <= current. */
    public static <T> VMStateField<T> int32Le(String name, ToIntFunction<T> get, ObjIntConsumer<T> set) {
        return single(name, VMStateInfos.INT32_LE, 4, ElementAccess.ofInt(get, set));
    }

    /** VMSTATE_TIMER_PTR: the timer's expiry, -1 when not armed. */
    public static <T> VMStateField<T> timer(String name, Function<T, GuestTimer> timer) {
        return VMStateField.<T>builder(name).info(VMStateInfos.TIMER, 8).pointer()
                .access(ElementAccess.of(timer, null)).build();
    }

    /** VMSTATE_TIMER_PTR_ARRAY. */
    public static <T> VMStateField<T> timerArray(String name, int n, Function<T, GuestTimer[]> timers) {
        return VMStateField.<T>builder(name).info(VMStateInfos.TIMER, 8).array(n).arrayOfPointer()
                .access(ElementAccess.ofArray(timers)).build();
    }

    /** VMSTATE_BUFFER: {@code size} bytes of the array, read in place. */
    public static <T> VMStateField<T> buffer(String name, int size, Function<T, byte[]> buf) {
        return VMStateField.<T>builder(name).info(VMStateInfos.BUFFER, size).flag(VMStateFlags.BUFFER)
                .access(ElementAccess.ofBuffer(buf, null)).build();
    }

    /**
     * VMSTATE_BUFFER_START_MIDDLE / VMSTATE_STATIC_BUFFER: bytes {@code start} to the end of the
     * {@code total}-byte member ({@code total - start} bytes on the wire).
     */
    public static <T> VMStateField<T> bufferFrom(String name, int start, int total, Function<T, byte[]> buf) {
        return VMStateField.<T>builder(name).info(VMStateInfos.BUFFER, total - start).flag(VMStateFlags.BUFFER)
                .access(ElementAccess.ofBufferRange(buf, start, total - start)).build();
    }

    /** VMSTATE_SUB_ARRAY of ints: {@code n} elements of the member from index {@code start}. */
    public static <T> VMStateField<T> intSubArray(String name, int start, int n, VMStateInfo<Integer> info, int size,
            Function<T, int[]> a) {
        return VMStateField.<T>builder(name).info(info, size).array(n)
                .access(ElementAccess.from(start, ElementAccess.ofIntArray(a, null))).build();
    }

    /** VMSTATE_STRUCT_SUB_ARRAY: {@code n} structs of the member from index {@code start}. */
    public static <T, S> VMStateField<T> structSubArray(String name, int start, int n, VMStateDescription<S> vmsd,
            Function<T, S[]> members) {
        return VMStateField.<T>builder(name).struct(vmsd, vmsd.qemuStructSize()).array(n)
                .access(ElementAccess.from(start, ElementAccess.ofArray(members))).build();
    }

    /** VMSTATE_UNUSED: {@code size} zero bytes, skipped on load. */
    public static <T> VMStateField<T> unused(int size) {
        return VMStateField.<T>builder("unused").info(VMStateInfos.UNUSED_BUFFER, size).build();
    }

    /**
     * VMSTATE_VBUFFER / VMSTATE_VBUFFER_UINT32: as many bytes as the int32 {@code size} member says,
     * read into the existing array (which must be large enough).
     */
    public static <T> VMStateField<T> vbuffer(String name, ToIntFunction<T> size, Function<T, byte[]> buf) {
        return VMStateField.<T>builder(name).info(VMStateInfos.BUFFER, 0).vbuffer(size).pointer()
                .access(ElementAccess.ofBuffer(buf, null)).build();
    }

    /** VMSTATE_VBUFFER_ALLOC_UINT32: the load allocates a new array of the size first. */
    public static <T> VMStateField<T> vbufferAlloc(String name, ToIntFunction<T> size, Function<T, byte[]> buf,
            BiConsumer<T, byte[]> set) {
        return VMStateField.<T>builder(name).info(VMStateInfos.BUFFER, 0).vbuffer(size).alloc()
                .access(ElementAccess.ofBuffer(buf, set)).build();
    }

    /** VMSTATE_VBUFFER_MULTIPLY: size member times {@code factor} bytes. */
    public static <T> VMStateField<T> vbufferMultiply(String name, int factor, ToIntFunction<T> size,
            Function<T, byte[]> buf) {
        return VMStateField.<T>builder(name).info(VMStateInfos.BUFFER, 0).vbuffer(size).multiply(factor).pointer()
                .access(ElementAccess.ofBuffer(buf, null)).build();
    }

    /** VMSTATE_BITMAP: {@code nbits} (an int32 member) bits in a {@code long[]}. */
    public static <T> VMStateField<T> bitmap(String name, ToIntFunction<T> nbits, Function<T, long[]> bits) {
        return VMStateField.<T>builder(name).info(VMStateInfos.BITMAP, 0).vbuffer(nbits).pointer()
                .access(ElementAccess.of(bits, null)).build();
    }

    public static <T> VMStateField<T> uint8Array(String name, int n, Function<T, byte[]> a) {
        return VMStateField.<T>builder(name).info(VMStateInfos.UINT8, 1).array(n)
                .access(ElementAccess.ofByteArray(a, false, null)).build();
    }

    public static <T> VMStateField<T> int8Array(String name, int n, Function<T, byte[]> a) {
        return VMStateField.<T>builder(name).info(VMStateInfos.INT8, 1).array(n)
                .access(ElementAccess.ofByteArray(a, true, null)).build();
    }

    public static <T> VMStateField<T> uint16Array(String name, int n, Function<T, int[]> a) {
        return intArray(name, n, VMStateInfos.UINT16, 2, a);
    }

    public static <T> VMStateField<T> int16Array(String name, int n, Function<T, int[]> a) {
        return intArray(name, n, VMStateInfos.INT16, 2, a);
    }

    public static <T> VMStateField<T> uint32Array(String name, int n, Function<T, int[]> a) {
        return intArray(name, n, VMStateInfos.UINT32, 4, a);
    }

    public static <T> VMStateField<T> int32Array(String name, int n, Function<T, int[]> a) {
        return intArray(name, n, VMStateInfos.INT32, 4, a);
    }

    public static <T> VMStateField<T> uint64Array(String name, int n, Function<T, long[]> a) {
        return VMStateField.<T>builder(name).info(VMStateInfos.UINT64, 8).array(n)
                .access(ElementAccess.ofLongArray(a, null)).build();
    }

    public static <T> VMStateField<T> int64Array(String name, int n, Function<T, long[]> a) {
        return VMStateField.<T>builder(name).info(VMStateInfos.INT64, 8).array(n)
                .access(ElementAccess.ofLongArray(a, null)).build();
    }

    public static <T> VMStateField<T> boolArray(String name, int n, Function<T, boolean[]> a) {
        return VMStateField.<T>builder(name).info(VMStateInfos.BOOL, 1).array(n)
                .access(ElementAccess.ofBoolArray(a)).build();
    }

    private static <T> VMStateField<T> intArray(String name, int n, VMStateInfo<Integer> info, int size,
            Function<T, int[]> a) {
        return VMStateField.<T>builder(name).info(info, size).array(n).access(ElementAccess.ofIntArray(a, null))
                .build();
    }

    /**
     * A variable int array (VMSTATE_VARRAY_INT32 / _UINT32 / _UINT16 / _UINT8 of int8..uint32
     * elements): {@code countFlag} names the count member's type, {@code count} reads it.
     */
    public static <T> VMStateField<T> varray(String name, int countFlag, ToIntFunction<T> count,
            VMStateInfo<Integer> info, int size, Function<T, int[]> a) {
        return VMStateField.<T>builder(name).info(info, size).varray(countFlag, count).pointer()
                .access(ElementAccess.ofIntArray(a, null)).build();
    }

    /** VMSTATE_VARRAY_*_ALLOC: the load replaces the array by a new one of the count. */
    public static <T> VMStateField<T> varrayAlloc(String name, int countFlag, ToIntFunction<T> count,
            VMStateInfo<Integer> info, int size, Function<T, int[]> a, BiConsumer<T, int[]> set) {
        return VMStateField.<T>builder(name).info(info, size).varray(countFlag, count).alloc()
                .access(ElementAccess.ofIntArray(a, set)).build();
    }

    /**
     * VMSTATE_STRUCT: the nested descriptor over the member object (its dump size is the descriptor's
     * {@link VMStateDescription#qemuStructSize()}).
     */
    public static <T, S> VMStateField<T> struct(String name, VMStateDescription<S> vmsd, Function<T, S> member) {
        return VMStateField.<T>builder(name).struct(vmsd, vmsd.qemuStructSize()).access(ElementAccess.of(member, null))
                .build();
    }

    /** VMSTATE_STRUCT_ARRAY. */
    public static <T, S> VMStateField<T> structArray(String name, int n, VMStateDescription<S> vmsd,
            Function<T, S[]> members) {
        return VMStateField.<T>builder(name).struct(vmsd, vmsd.qemuStructSize()).array(n)
                .access(ElementAccess.ofArray(members)).build();
    }

    /** VMSTATE_ARRAY_OF_POINTER_TO_STRUCT: null elements travel as the 0x30 marker. */
    public static <T, S> VMStateField<T> structPointerArray(String name, int n, VMStateDescription<S> vmsd,
            Function<T, S[]> members) {
        // QEMU's element size is sizeof(pointer): 8 on the 64-bit hosts -dump-vmstate is compared on
        return VMStateField.<T>builder(name).struct(vmsd, 8).array(n).arrayOfPointer()
                .access(ElementAccess.ofArray(members)).build();
    }

    /** VMSTATE_STRUCT_VARRAY_*: a variable number of nested structs. */
    public static <T, S> VMStateField<T> structVarray(String name, int countFlag, ToIntFunction<T> count,
            VMStateDescription<S> vmsd, Function<T, S[]> members) {
        return VMStateField.<T>builder(name).struct(vmsd, vmsd.qemuStructSize()).varray(countFlag, count)
                .access(ElementAccess.ofArray(members)).build();
    }

    /**
     * VMSTATE_STRUCT_VARRAY_ALLOC: a load replaces the member with a new array of {@code count} fresh
     * elements from {@code factory} (made by {@code newArray}), then loads each; {@code countFlag} is
     * the count member's type (QEMU's macro uses an int32 count, VARRAY_INT32).
     */
    public static <T, S> VMStateField<T> structVarrayAlloc(String name, int countFlag, ToIntFunction<T> count,
            VMStateDescription<S> vmsd, Function<T, S[]> members, BiConsumer<T, S[]> set,
            java.util.function.IntFunction<S[]> newArray, java.util.function.Supplier<S> factory) {
        return VMStateField.<T>builder(name).struct(vmsd, vmsd.qemuStructSize()).varray(countFlag, count).alloc()
                .access(ElementAccess.ofStructArray(members, set, newArray, factory)).build();
    }

    /**
     * VMSTATE_UNUSED_VARRAY_UINT32: {@code count} × {@code size} zero bytes, skipped on load
     * ({@code countFlag} names the count member's type).
     */
    public static <T> VMStateField<T> unusedVarray(int countFlag, ToIntFunction<T> count, int size) {
        return VMStateField.<T>builder("unused").info(VMStateInfos.UNUSED_BUFFER, size).varray(countFlag, count)
                .build();
    }

    /**
     * VMSTATE_GTREE_V: a {@code SortedMap} member standing for a GTree with {@code key} descriptor keys
     * and {@code value} descriptor values; saved in the map's order, loaded at {@code version}.
     */
    public static <T, K, V> VMStateField<T> gtree(String name, int version, VMStateDescription<K> key,
            java.util.function.Supplier<K> keyFactory, VMStateDescription<V> value,
            java.util.function.Supplier<V> valueFactory, Function<T, java.util.SortedMap<K, V>> tree) {
        return VMStateField.<T>builder(name).version(version).gtree(key, keyFactory, value, valueFactory)
                .access(ElementAccess.of(tree, null)).build();
    }

    /** VMSTATE_GTREE_DIRECT_KEY_V: a GTree with {@code Long} keys that travel as be64. */
    public static <T, V> VMStateField<T> gtreeDirectKey(String name, int version, VMStateDescription<V> value,
            java.util.function.Supplier<V> valueFactory, Function<T, java.util.SortedMap<Long, V>> tree) {
        return VMStateField.<T>builder(name).version(version).gtreeDirectKey(value, valueFactory)
                .access(ElementAccess.of(tree, null)).build();
    }

    /** VMSTATE_WITH_TMP: {@code child} over a temporary made by {@code newTmp} from the state. */
    public static <T, X> VMStateField<T> withTmp(VMStateDescription<X> child, Function<T, X> newTmp) {
        return VMStateField.<T>builder("tmp").tmp(child).access(ElementAccess.of(newTmp, null)).build();
    }

    /** VMSTATE_QTAILQ_V: a list of {@code element} structs, 0x01 before each, 0x00 after the last. */
    public static <T, E> VMStateField<T> qtailq(String name, int version, VMStateDescription<E> element,
            Function<T, java.util.List<E>> list, java.util.function.Supplier<E> factory) {
        return VMStateField.<T>builder(name).version(version).queue(VMStateInfos.QTAILQ, element, factory)
                .access(ElementAccess.of(list, null)).build();
    }

    /** VMSTATE_QLIST_V: same wire form as qtailq. */
    public static <T, E> VMStateField<T> qlist(String name, int version, VMStateDescription<E> element,
            Function<T, java.util.List<E>> list, java.util.function.Supplier<E> factory) {
        return VMStateField.<T>builder(name).version(version).queue(VMStateInfos.QLIST, element, factory)
                .access(ElementAccess.of(list, null)).build();
    }

    /** VMSTATE_VALIDATE: no bytes; the load fails when {@code test} is false. */
    public static <T> VMStateField<T> validate(String name, Predicate<T> test) {
        return VMStateField.<T>builder(name).validate(test).build();
    }

    private static <T> ElementAccess<T> longAccess(ToLongFunction<T> get, ObjLongConsumer<T> set) {
        return ElementAccess.of(get::applyAsLong, set == null ? null : (s, v) -> set.accept(s, (Long) v));
    }

    private static <T> ElementAccess<T> doubleAccess(ToDoubleFunction<T> get, ObjDoubleConsumer<T> set) {
        return ElementAccess.of(get::applyAsDouble, set == null ? null : (s, v) -> set.accept(s, (Double) v));
    }
}
