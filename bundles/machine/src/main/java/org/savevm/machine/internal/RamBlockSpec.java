package org.savevm.machine.internal;

/** One RAM block of a machine profile, in creation order. */
public record RamBlockSpec(String idstr, long usedLength, long maxLength, boolean resizeable) {
}
