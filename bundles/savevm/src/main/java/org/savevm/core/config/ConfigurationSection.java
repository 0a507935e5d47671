package org.savevm.core.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;

import org.savevm.api.MigrationSettings;
import org.savevm.api.settings.MigrationCapabilities;
import org.savevm.core.framing.SectionType;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationOutput;
import org.savevm.stream.MigrationStreamException;

/**
 * The configuration section (0x07, no header or footer): be32 length + machine type name, then the
 * subsections {@code configuration/target-page-bits}, {@code configuration/capabilities} and
 * {@code configuration/uuid} when they apply, with QEMU 7.2's checks on load.
 */
public final class ConfigurationSection {
    static final String NAME = "configuration";
    static final String SUB_PAGE_BITS = "configuration/target-page-bits";
    static final String SUB_CAPABILITIES = "configuration/capabilities";
    static final String SUB_UUID = "configuration/uuid";
    /** Longer names are refused before allocating; real machine type names are a few dozen bytes. */
    static final int MAX_NAME_LENGTH = 1024;
    /** More entries than QEMU has capabilities (21 in 7.2) cannot come from a sane source. */
    static final int MAX_CAPABILITIES = 256;

    private ConfigurationSection() {
    }

    /** Validated capabilities enabled in {@code settings}, in QEMU's enum order. */
    static List<String> validatedCapabilities(MigrationSettings settings) {
        List<String> caps = new ArrayList<>();
        for (String c : MigrationCapabilities.ALL) {
            if (MigrationCapabilities.VALIDATED.contains(c) && settings.capability(c)) {
                caps.add(c);
            }
        }
        return caps;
    }

    public static void write(MigrationOutput out, MachineIdentity machine, MigrationSettings settings) {
        out.putByte(SectionType.CONFIGURATION);
        byte[] name = machine.machineType().getBytes(StandardCharsets.UTF_8);
        out.putBe32(name.length);
        out.putBytes(name);
        if (machine.targetPageBits() > machine.targetPageBitsMin()) {
            subsectionHeader(out, SUB_PAGE_BITS);
            out.putBe32(machine.targetPageBits());
        }
        List<String> caps = validatedCapabilities(settings);
        if (!caps.isEmpty()) {
            subsectionHeader(out, SUB_CAPABILITIES);
            out.putBe32(caps.size());
            for (String c : caps) {
                out.putCountedString(c);
            }
        }
        if (machine.uuid() != null && settings.capability("validate-uuid")) {
            subsectionHeader(out, SUB_UUID);
            ByteBuffer b = ByteBuffer.allocate(16);
            b.putLong(machine.uuid().getMostSignificantBits()).putLong(machine.uuid().getLeastSignificantBits());
            out.putBytes(b.array());
        }
    }

    private static void subsectionHeader(MigrationOutput out, String name) {
        out.putByte(SectionType.SUBSECTION);
        out.putCountedString(name);
        out.putBe32(1);
    }

    /** What a configuration section carried. */
    record Received(String machineType, int targetPageBits, List<String> capabilities, UUID uuid) {
    }

    /**
     * Reads the body after the 0x07 byte and checks it against the local machine and settings.
     * {@code sectionOffset} is where the 0x07 byte was.
     */
    public static void readAndCheck(MigrationInput in, long sectionOffset, MachineIdentity local,
            MigrationSettings settings) throws IOException {
        Received r = read(in, local);
        check(r, local, settings, sectionOffset);
    }

    static Received read(MigrationInput in, MachineIdentity local) throws IOException {
        long at = in.position();
        long len = Integer.toUnsignedLong(in.getBe32());
        if (len > MAX_NAME_LENGTH) {
            throw new MigrationStreamException("configuration: machine type name of " + len + " bytes (limit "
                    + MAX_NAME_LENGTH + ")", at);
        }
        String machineType = new String(in.readBytes((int) len), StandardCharsets.ISO_8859_1);
        int pageBits = local.targetPageBitsMin();
        List<String> caps = new ArrayList<>();
        UUID uuid = null;
        while (in.peekByte() == SectionType.SUBSECTION) {
            long subAt = in.position();
            in.getByte();
            String sub = in.getCountedString();
            if (!sub.startsWith(NAME) || sub.length() < NAME.length() + 1) {
                // QEMU leaves it to the main loop, which refuses a subsection at top level
                throw new MigrationStreamException("Unknown savevm section type 5 (subsection '" + sub
                        + "' after the configuration section)", subAt);
            }
            long verAt = in.position();
            int version = in.getBe32() & 0xff; // 7.2 keeps only the low byte
            if (!sub.equals(SUB_PAGE_BITS) && !sub.equals(SUB_CAPABILITIES) && !sub.equals(SUB_UUID)) {
                throw new MigrationStreamException("configuration: unknown subsection '" + sub + "'", subAt);
            }
            if (version > 1) {
                throw new MigrationStreamException("configuration: subsection '" + sub + "' version " + version
                        + " is too new (local 1)", verAt);
            }
            switch (sub) {
            case SUB_PAGE_BITS:
                pageBits = in.getBe32();
                break;
            case SUB_CAPABILITIES:
                long countAt = in.position();
                long count = Integer.toUnsignedLong(in.getBe32());
                if (count > MAX_CAPABILITIES) {
                    throw new MigrationStreamException("configuration/capabilities: " + count + " capabilities (limit "
                            + MAX_CAPABILITIES + ")", countAt);
                }
                for (long i = 0; i < count; i++) {
                    long capAt = in.position();
                    String cap = in.getCountedString();
                    if (!MigrationCapabilities.ALL.contains(cap)) {
                        throw new MigrationStreamException("Received unknown capability " + cap, capAt);
                    }
                    caps.add(cap);
                }
                break;
            default:
                ByteBuffer b = ByteBuffer.wrap(in.readBytes(16));
                uuid = new UUID(b.getLong(), b.getLong());
            }
        }
        return new Received(machineType, pageBits, caps, uuid);
    }

    static void check(Received r, MachineIdentity local, MigrationSettings settings, long at)
            throws MigrationStreamException {
        if (local.uuid() != null && r.uuid() != null && !local.uuid().equals(r.uuid())) {
            throw new MigrationStreamException("UUID received is " + r.uuid() + " and local is " + local.uuid(), at);
        }
        if (!strncmpEqual(r.machineType(), local.machineType())) {
            throw new MigrationStreamException("Machine type received is '" + r.machineType() + "' and local is '"
                    + local.machineType() + "'", at);
        }
        if (r.targetPageBits() != local.targetPageBits()) {
            throw new MigrationStreamException("Received TARGET_PAGE_BITS is " + r.targetPageBits() + " but local is "
                    + local.targetPageBits(), at);
        }
        List<String> problems = new ArrayList<>();
        for (String c : new TreeSet<>(MigrationCapabilities.VALIDATED)) {
            boolean source = r.capabilities().contains(c);
            boolean target = settings.capability(c);
            if (source != target) {
                problems.add("Capability " + c + " is " + (target ? "on" : "off") + ", but received capability is "
                        + (source ? "on" : "off"));
            }
        }
        if (!problems.isEmpty()) {
            throw new MigrationStreamException(String.join("; ", problems), at);
        }
    }

    /**
     * QEMU compares with strncmp(received, local, received_len): the received name must equal the first
     * bytes of the local one (so a received prefix of the local name passes), stopping at a NUL.
     */
    static boolean strncmpEqual(String received, String local) {
        byte[] a = received.getBytes(StandardCharsets.ISO_8859_1);
        byte[] b = local.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < a.length; i++) {
            int x = a[i] & 0xff;
            int y = i < b.length ? b[i] & 0xff : 0;
            if (x != y) {
                return false;
            }
            if (x == 0) {
                return true;
            }
        }
        return true;
    }
}
