package org.savevm.framing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;
import org.savevm.stream.json.JsonText;

/**
 * The vmdesc JSON trailer written after EOF: {@code {"page_size": 4096, "devices": [...]}} in QEMU 7.2's
 * compact JSONWriter form. Entries are added as FULL sections are written, in stream order.
 */
public final class VmDescription {
    private final StringBuilder json = new StringBuilder(4096);
    private boolean firstDevice = true;

    public VmDescription(int pageSize) {
        json.append("{\"page_size\": ").append(pageSize).append(", \"devices\": [");
    }

    /**
     * Adds one device entry: name and instance_id, then the members the vmstate engine produced
     * ({@code "vmsd_name": ..., "version": ..., "fields": [...]}), which may be empty.
     */
    public void addDevice(String idstr, int instanceId, CharSequence members) {
        if (!firstDevice) {
            json.append(", ");
        }
        firstDevice = false;
        json.append("{\"name\": ");
        JsonText.appendQuoted(json, idstr);
        json.append(", \"instance_id\": ").append(Integer.toUnsignedLong(instanceId));
        if (members != null && members.length() > 0) {
            json.append(", ").append(members);
        }
        json.append('}');
    }

    /** The finished JSON text. */
    public String finish() {
        return json + "]}";
    }

    /** Writes 0x06, be32 length and the JSON bytes. */
    public static void writeTrailer(MigrationOutput out, String jsonText) {
        byte[] b = jsonText.getBytes(StandardCharsets.UTF_8);
        out.putByte(SectionType.VMDESCRIPTION);
        out.putBe32(b.length);
        out.putBytes(b);
    }

    /**
     * Reads what follows EOF, as qemu_loadvm_state does: the vmdesc trailer, skipped in small chunks so
     * that its length never causes an allocation. Like QEMU, a missing, foreign or cut trailer does not
     * fail the load (the machine state before EOF is complete): it is logged, and the load succeeds.
     * A claimed length over {@code maxLength} is not read at all. Returns the bytes skipped, or -1.
     */
    public static long readAndDiscard(MigrationInput in, long maxLength) throws IOException {
        System.Logger log = System.getLogger(VmDescription.class.getName());
        if (in.atEnd()) {
            log.log(System.Logger.Level.DEBUG, "no vmdesc trailer after EOF (suppress-vmdesc)");
            return -1;
        }
        long at = in.position();
        int type = in.getByte();
        if (type != SectionType.VMDESCRIPTION) {
            log.log(System.Logger.Level.WARNING, "Expected vmdescription section, but got " + type + " (byte offset "
                    + at + ")");
            return -1;
        }
        long len;
        try {
            len = Integer.toUnsignedLong(in.getBe32());
        } catch (MigrationStreamException e) {
            log.log(System.Logger.Level.WARNING, "vmdesc trailer cut short: " + e.getMessage());
            return -1;
        }
        if (len > maxLength) {
            log.log(System.Logger.Level.WARNING, "vmdesc trailer of " + len + " bytes exceeds the limit of "
                    + maxLength + " (byte offset " + at + "): not read");
            return -1;
        }
        try {
            in.skip(len);
        } catch (MigrationStreamException e) {
            log.log(System.Logger.Level.WARNING, "vmdesc trailer of " + len + " bytes cut short: " + e.getMessage());
            return -1;
        }
        return len;
    }
}
