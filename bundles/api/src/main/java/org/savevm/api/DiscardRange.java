package org.savevm.api;

/** One POSTCOPY_RAM_DISCARD range, in bytes within a RAMBlock. */
public record DiscardRange(long start, long length) {
}
