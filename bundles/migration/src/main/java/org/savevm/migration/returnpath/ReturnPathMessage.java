package org.savevm.migration.returnpath;

/** QEMU 7.2's return-path message types (destination → source): be16 type, be16 length, payload. */
public final class ReturnPathMessage {
    public static final int INVALID = 0;
    public static final int SHUT = 1;
    public static final int PONG = 2;
    public static final int REQ_PAGES_ID = 3;
    public static final int REQ_PAGES = 4;
    public static final int RECV_BITMAP = 5;
    public static final int RESUME_ACK = 6;
    /** Longest payload QEMU accepts (its rp buffer). */
    public static final int MAX_LEN = 512;
    /** RAMBLOCK_RECV_BITMAP_ENDING: the be64 after a RECV_BITMAP's bitmap. */
    public static final long RECV_BITMAP_ENDING = 0x0123456789abcdefL;
    /** MIGRATION_RESUME_ACK_VALUE. */
    public static final int RESUME_ACK_VALUE = 1;

    private ReturnPathMessage() {
    }

    public static String name(int type) {
        return switch (type) {
            case SHUT -> "SHUT";
            case PONG -> "PONG";
            case REQ_PAGES_ID -> "REQ_PAGES_ID";
            case REQ_PAGES -> "REQ_PAGES";
            case RECV_BITMAP -> "RECV_BITMAP";
            case RESUME_ACK -> "RESUME_ACK";
            default -> "INVALID(" + type + ")";
        };
    }
}
