package org.savevm.machine.internal;

/** One RAM block of a machine profile, in creation order; {@code regionAddress} is QEMU's mr->addr. */
public record RamBlockSpec(String idstr, long usedLength, long maxLength, boolean resizeable, long regionAddress) {
}
