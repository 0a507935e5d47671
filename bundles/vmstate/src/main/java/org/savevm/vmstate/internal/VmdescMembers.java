package org.savevm.vmstate.internal;

/**
 * An info type whose vmdesc field object carries members of its own between "type" and "size" (QEMU's
 * tmp, qtailq, gtree and qlist write their child vmsd there). The text is already in QEMU's compact
 * form, without braces.
 */
public interface VmdescMembers {
    String vmdescMembers();
}
