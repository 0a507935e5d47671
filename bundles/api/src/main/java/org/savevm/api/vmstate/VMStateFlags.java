package org.savevm.api.vmstate;

/** QEMU 7.2's VMStateFlags bit values (include/migration/vmstate.h), kept on every field. */
public final class VMStateFlags {
    public static final int SINGLE = 0x001;
    public static final int POINTER = 0x002;
    public static final int ARRAY = 0x004;
    public static final int STRUCT = 0x008;
    public static final int VARRAY_INT32 = 0x010;
    public static final int BUFFER = 0x020;
    public static final int ARRAY_OF_POINTER = 0x040;
    public static final int VARRAY_UINT16 = 0x080;
    public static final int VBUFFER = 0x100;
    public static final int MULTIPLY = 0x200;
    public static final int VARRAY_UINT8 = 0x400;
    public static final int VARRAY_UINT32 = 0x800;
    public static final int MUST_EXIST = 0x1000;
    public static final int ALLOC = 0x2000;
    public static final int MULTIPLY_ELEMENTS = 0x4000;
    public static final int VSTRUCT = 0x8000;

    /** Any of the variable-array count flags. */
    public static final int ANY_VARRAY = VARRAY_INT32 | VARRAY_UINT32 | VARRAY_UINT16 | VARRAY_UINT8;

    private VMStateFlags() {
    }
}
