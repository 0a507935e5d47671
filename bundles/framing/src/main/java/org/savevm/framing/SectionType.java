package org.savevm.framing;

/** The section type bytes of a QEMU 7.2 stream (migration/savevm.h), with their names for messages. */
public final class SectionType {
    public static final int EOF = 0x00;
    public static final int START = 0x01;
    public static final int PART = 0x02;
    public static final int END = 0x03;
    public static final int FULL = 0x04;
    public static final int SUBSECTION = 0x05;
    public static final int VMDESCRIPTION = 0x06;
    public static final int CONFIGURATION = 0x07;
    public static final int COMMAND = 0x08;
    public static final int FOOTER = 0x7e;

    private SectionType() {
    }

    public static String name(int type) {
        switch (type) {
        case EOF: return "EOF";
        case START: return "START";
        case PART: return "PART";
        case END: return "END";
        case FULL: return "FULL";
        case SUBSECTION: return "SUBSECTION";
        case VMDESCRIPTION: return "VMDESCRIPTION";
        case CONFIGURATION: return "CONFIGURATION";
        case COMMAND: return "COMMAND";
        case FOOTER: return "FOOTER";
        default: return String.format("0x%02x", type);
        }
    }
}
