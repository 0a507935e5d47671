package org.savevm.api.machine;

/** A byte range in one RAM block, page aligned: a POSTCOPY_RAM_DISCARD entry or a page request. */
public record PageRange(String idstr, long start, long length) {
    public PageRange {
        if (start < 0 || length <= 0 || (start % RamBlock.TARGET_PAGE_SIZE) != 0
                || (length % RamBlock.TARGET_PAGE_SIZE) != 0) {
            throw new IllegalArgumentException("page range of " + idstr + " not page aligned: start 0x"
                    + Long.toHexString(start) + " length 0x" + Long.toHexString(length));
        }
    }
}
