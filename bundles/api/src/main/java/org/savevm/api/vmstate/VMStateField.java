package org.savevm.api.vmstate;

import java.util.Objects;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * One entry of a descriptor's field list: QEMU's VMStateField. Immutable; made with {@link #builder}
 * or the macro-like factories of {@link VMStateFields}. The QEMU flags are kept in {@link #flags()}.
 *
 * <p>Element count: 1, or {@code num} for {@link VMStateFlags#ARRAY}, or the value of
 * {@link #countSource()} for the VARRAY flags (masked to the count field's width), times {@code num}
 * with {@link VMStateFlags#MULTIPLY_ELEMENTS}. Element size: {@code size}, or the int32
 * {@link #sizeSource()} for {@link VMStateFlags#VBUFFER} (times {@code size} with MULTIPLY).
 */
public final class VMStateField<T> {
    private final String name;
    private final int versionId;
    private final BiPredicate<T, Integer> fieldExists;
    private final int flags;
    private final VMStateInfo<?> info;
    private final VMStateDescription<?> vmsd;
    private final int structVersionId;
    private final int size;
    private final int num;
    private final ToIntFunction<T> countSource;
    private final ToIntFunction<T> sizeSource;
    private final ElementAccess<T> access;
    private final Predicate<T> validate;
    private final Supplier<?> elementFactory;
    private final VMStateDescription<?> keyVmsd;
    private final Supplier<?> keyFactory;
    private final String errHint;

    private VMStateField(Builder<T> b) {
        this.name = Objects.requireNonNull(b.name, "name");
        this.versionId = b.versionId;
        this.fieldExists = b.fieldExists;
        this.flags = b.flags;
        this.info = b.info;
        this.vmsd = b.vmsd;
        this.structVersionId = b.structVersionId;
        this.size = b.size;
        this.num = b.num;
        this.countSource = b.countSource;
        this.sizeSource = b.sizeSource;
        this.access = b.access;
        this.validate = b.validate;
        this.elementFactory = b.elementFactory;
        this.keyVmsd = b.keyVmsd;
        this.keyFactory = b.keyFactory;
        this.errHint = b.errHint;
        if (VMStateInfos.nestsDescriptor(info) && vmsd == null) {
            throw new IllegalArgumentException(name + ": " + info.name() + " needs a descriptor");
        }
        if ((info == VMStateInfos.QTAILQ || info == VMStateInfos.QLIST) && elementFactory == null) {
            throw new IllegalArgumentException(name + ": a queue needs an element factory");
        }
        if (info == VMStateInfos.GTREE && (elementFactory == null || (keyVmsd != null && keyFactory == null))) {
            throw new IllegalArgumentException(name + ": a gtree needs value (and key) factories");
        }
        if (has(VMStateFlags.ALLOC) && isStruct() && !has(VMStateFlags.ARRAY_OF_POINTER)
                && access != null && !access.allocates()) {
            throw new IllegalArgumentException(name + ": an allocating struct field needs an allocating accessor");
        }
        if ((flags & (VMStateFlags.STRUCT | VMStateFlags.VSTRUCT)) != 0 && vmsd == null) {
            throw new IllegalArgumentException(name + ": a struct field needs a descriptor");
        }
        if ((flags & (VMStateFlags.STRUCT | VMStateFlags.VSTRUCT)) == 0 && validate == null && info == null) {
            throw new IllegalArgumentException(name + ": a field needs an info type");
        }
        if ((flags & VMStateFlags.ANY_VARRAY) != 0 && countSource == null) {
            throw new IllegalArgumentException(name + ": a variable array needs a count");
        }
        if ((flags & VMStateFlags.VBUFFER) != 0 && sizeSource == null) {
            throw new IllegalArgumentException(name + ": a variable buffer needs a size");
        }
        if (validate == null && info != VMStateInfos.UNUSED_BUFFER && access == null) {
            throw new IllegalArgumentException(name + ": a field needs an accessor");
        }
    }

    public static <T> Builder<T> builder(String name) {
        return new Builder<>(name);
    }

    /** A builder preset with this field's settings. */
    public Builder<T> toBuilder() {
        Builder<T> b = new Builder<>(name);
        b.versionId = versionId;
        b.fieldExists = fieldExists;
        b.flags = flags;
        b.info = info;
        b.vmsd = vmsd;
        b.structVersionId = structVersionId;
        b.size = size;
        b.num = num;
        b.countSource = countSource;
        b.sizeSource = sizeSource;
        b.access = access;
        b.validate = validate;
        b.elementFactory = elementFactory;
        b.keyVmsd = keyVmsd;
        b.keyFactory = keyFactory;
        b.errHint = errHint;
        return b;
    }

    /** QEMU's {@code _V} macros: the field exists from stream version {@code v} on. */
    public VMStateField<T> since(int v) {
        return toBuilder().version(v).build();
    }

    /**
     * QEMU's {@code err_hint} (VMSTATE_*_EQUAL's last argument): added to the error when this field's
     * load fails, e.g. "migrate to a machine with the same number of CPUs".
     */
    public VMStateField<T> hint(String hint) {
        return toBuilder().errHint(hint).build();
    }

    /** The err_hint, or null. */
    public String errHint() {
        return errHint;
    }

    /** QEMU's {@code _TEST} macros: the field exists when {@code test(state, version)} holds. */
    public VMStateField<T> when(BiPredicate<T, Integer> test) {
        return toBuilder().fieldExists(test).build();
    }

    public String name() {
        return name;
    }

    public int versionId() {
        return versionId;
    }

    public BiPredicate<T, Integer> fieldExists() {
        return fieldExists;
    }

    public int flags() {
        return flags;
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** The element type; null for struct fields and VALIDATE. */
    public VMStateInfo<?> info() {
        return info;
    }

    /** The nested descriptor of a STRUCT/VSTRUCT field, else null. */
    public VMStateDescription<?> vmsd() {
        return vmsd;
    }

    public int structVersionId() {
        return structVersionId;
    }

    /** QEMU's field->size: the element size (the multiplier for VBUFFER|MULTIPLY). */
    public int size() {
        return size;
    }

    /** QEMU's field->num: the fixed element count, or the MULTIPLY_ELEMENTS factor. */
    public int num() {
        return num;
    }

    public ToIntFunction<T> countSource() {
        return countSource;
    }

    public ToIntFunction<T> sizeSource() {
        return sizeSource;
    }

    public ElementAccess<T> access() {
        return access;
    }

    /** The test of a VMSTATE_VALIDATE entry, else null. */
    public Predicate<T> validate() {
        return validate;
    }

    /** Creates a queue element (qtailq/qlist) or a gtree value on load, else null. */
    public Supplier<?> elementFactory() {
        return elementFactory;
    }

    /** The key descriptor of a gtree; null for a direct key (a be64) and for every other field. */
    public VMStateDescription<?> keyVmsd() {
        return keyVmsd;
    }

    /** Creates a gtree key on load (a keyed, not direct, gtree), else null. */
    public Supplier<?> keyFactory() {
        return keyFactory;
    }

    public boolean isStruct() {
        return has(VMStateFlags.STRUCT | VMStateFlags.VSTRUCT);
    }

    /** QEMU's vmstate_field_exists. */
    public boolean exists(T state, int version) {
        return fieldExists != null ? fieldExists.test(state, version) : versionId <= version;
    }

    /**
     * QEMU's vmstate_n_elems, widened to long so that a uint32 count cannot wrap: the caller bounds it.
     */
    public long elementCount(T state) {
        long n = 1;
        if (has(VMStateFlags.ARRAY)) {
            n = num;
        } else if (has(VMStateFlags.VARRAY_INT32)) {
            n = countSource.applyAsInt(state);
        } else if (has(VMStateFlags.VARRAY_UINT32)) {
            n = Integer.toUnsignedLong(countSource.applyAsInt(state));
        } else if (has(VMStateFlags.VARRAY_UINT16)) {
            n = countSource.applyAsInt(state) & 0xffff;
        } else if (has(VMStateFlags.VARRAY_UINT8)) {
            n = countSource.applyAsInt(state) & 0xff;
        }
        if (has(VMStateFlags.MULTIPLY_ELEMENTS)) {
            n *= num;
        }
        return n;
    }

    /** QEMU's vmstate_size (the VBUFFER size member is an int32, even for the UINT32 macros). */
    public long elementSize(T state) {
        long s = size;
        if (has(VMStateFlags.VBUFFER)) {
            s = sizeSource.applyAsInt(state);
            if (has(VMStateFlags.MULTIPLY)) {
                s *= size;
            }
        }
        return s;
    }

    @Override
    public String toString() {
        return name;
    }

    /** Builds any field kind; prefer {@link VMStateFields} for the usual ones. */
    public static final class Builder<T> {
        private final String name;
        private int versionId;
        private BiPredicate<T, Integer> fieldExists;
        private int flags = VMStateFlags.SINGLE;
        private VMStateInfo<?> info;
        private VMStateDescription<?> vmsd;
        private int structVersionId;
        private int size;
        private int num;
        private ToIntFunction<T> countSource;
        private ToIntFunction<T> sizeSource;
        private ElementAccess<T> access;
        private Predicate<T> validate;
        private Supplier<?> elementFactory;
        private VMStateDescription<?> keyVmsd;
        private Supplier<?> keyFactory;
        private String errHint;

        private Builder(String name) {
            this.name = name;
        }

        /** See {@link VMStateField#hint(String)}. */
        public Builder<T> errHint(String hint) {
            this.errHint = hint;
            return this;
        }

        public Builder<T> version(int v) {
            this.versionId = v;
            return this;
        }

        public Builder<T> fieldExists(BiPredicate<T, Integer> test) {
            this.fieldExists = test;
            return this;
        }

        public Builder<T> info(VMStateInfo<?> i, int elementSize) {
            this.info = i;
            this.size = elementSize;
            return this;
        }

        public Builder<T> access(ElementAccess<T> a) {
            this.access = a;
            return this;
        }

        public Builder<T> flag(int f) {
            this.flags |= f;
            return this;
        }

        /** VMS_ARRAY of {@code n} elements. */
        public Builder<T> array(int n) {
            this.num = n;
            return flag(VMStateFlags.ARRAY);
        }

        /**
         * A variable array whose count is another member of the state: {@code countFlag} is one of
         * VARRAY_INT32, VARRAY_UINT32, VARRAY_UINT16, VARRAY_UINT8 (the count member's type).
         */
        public Builder<T> varray(int countFlag, ToIntFunction<T> count) {
            if ((countFlag & VMStateFlags.ANY_VARRAY) == 0 || Integer.bitCount(countFlag) != 1) {
                throw new IllegalArgumentException("not a VARRAY flag: " + countFlag);
            }
            this.countSource = count;
            return flag(countFlag);
        }

        /** VMS_MULTIPLY_ELEMENTS: the variable count times {@code factor}. */
        public Builder<T> multiplyElements(int factor) {
            this.num = factor;
            return flag(VMStateFlags.MULTIPLY_ELEMENTS);
        }

        /** VMS_VBUFFER: the element size is the int32 {@code sizeMember}. */
        public Builder<T> vbuffer(ToIntFunction<T> sizeMember) {
            this.sizeSource = sizeMember;
            return flag(VMStateFlags.VBUFFER);
        }

        /** VMS_MULTIPLY: the VBUFFER size times {@code factor}. */
        public Builder<T> multiply(int factor) {
            this.size = factor;
            return flag(VMStateFlags.MULTIPLY);
        }

        /** VMS_POINTER: documentation in Java (every member is a reference); kept for the dump. */
        public Builder<T> pointer() {
            return flag(VMStateFlags.POINTER);
        }

        /** VMS_POINTER|VMS_ALLOC: the load allocates the member through the accessor first. */
        public Builder<T> alloc() {
            return flag(VMStateFlags.POINTER | VMStateFlags.ALLOC);
        }

        /** VMS_ARRAY_OF_POINTER: null elements travel as the 0x30 marker. */
        public Builder<T> arrayOfPointer() {
            return flag(VMStateFlags.ARRAY_OF_POINTER);
        }

        public Builder<T> mustExist() {
            return flag(VMStateFlags.MUST_EXIST);
        }

        /** VMS_STRUCT with the nested descriptor (its own version, never on the wire). */
        public Builder<T> struct(VMStateDescription<?> d, int elementSize) {
            this.vmsd = d;
            this.size = elementSize;
            return flag(VMStateFlags.STRUCT);
        }

        /** VMS_VSTRUCT: the nested descriptor saved and loaded at {@code structVersion}. */
        public Builder<T> vstruct(VMStateDescription<?> d, int structVersion, int elementSize) {
            this.vmsd = d;
            this.structVersionId = structVersion;
            this.size = elementSize;
            return flag(VMStateFlags.VSTRUCT);
        }

        /** VMSTATE_VALIDATE: no bytes; a false test fails the load. */
        public Builder<T> validate(Predicate<T> test) {
            this.validate = test;
            this.fieldExists = (s, v) -> test.test(s);
            this.num = 0;
            return flag(VMStateFlags.ARRAY | VMStateFlags.MUST_EXIST);
        }

        /**
         * VMSTATE_WITH_TMP: {@code child} runs over the object the accessor returns (made fresh from the
         * state for each save and load); the child's hooks translate. The load uses this field's
         * version ({@link #version}), as QEMU does.
         */
        public Builder<T> tmp(VMStateDescription<?> child) {
            this.vmsd = child;
            this.info = VMStateInfos.TMP;
            return this;
        }

        /**
         * VMSTATE_QTAILQ_V / VMSTATE_QLIST_V: the accessor returns the {@code java.util.List} of
         * elements, each saved with {@code element}; a load appends elements made by {@code factory},
         * loaded at this field's version.
         */
        public <E> Builder<T> queue(VMStateInfo<Object> kind, VMStateDescription<E> element, Supplier<E> factory) {
            if (kind != VMStateInfos.QTAILQ && kind != VMStateInfos.QLIST) {
                throw new IllegalArgumentException("not a queue info: " + kind.name());
            }
            this.vmsd = element;
            this.info = kind;
            this.elementFactory = factory;
            return this;
        }

        /**
         * VMSTATE_GTREE_V: the accessor returns the {@code java.util.SortedMap} standing for the GTree
         * (its order is the tree's key order, which the save follows); keys are saved with {@code key},
         * values with {@code value}; a load puts keys and values made by the factories, both loaded at
         * this field's version.
         */
        public <K, V> Builder<T> gtree(VMStateDescription<K> key, Supplier<K> keyFactory, VMStateDescription<V> value,
                Supplier<V> valueFactory) {
            this.keyVmsd = java.util.Objects.requireNonNull(key, "key");
            this.keyFactory = keyFactory;
            this.vmsd = value;
            this.elementFactory = valueFactory;
            this.info = VMStateInfos.GTREE;
            return this;
        }

        /**
         * VMSTATE_GTREE_DIRECT_KEY_V: as {@link #gtree}, but the keys are {@code Long}s travelling as
         * be64 (QEMU's pointer-sized integer keys).
         */
        public <V> Builder<T> gtreeDirectKey(VMStateDescription<V> value, Supplier<V> valueFactory) {
            this.keyVmsd = null;
            this.keyFactory = null;
            this.vmsd = value;
            this.elementFactory = valueFactory;
            this.info = VMStateInfos.GTREE;
            return this;
        }

        public VMStateField<T> build() {
            return new VMStateField<>(this);
        }
    }
}
