package org.savevm.vmstate.internal.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.savevm.api.vmstate.VMStateFields.since;
import static org.savevm.api.vmstate.VMStateFields.uint16;
import static org.savevm.api.vmstate.VMStateFields.uint8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.DeviceStateHandler;
import org.savevm.api.MigrationPriority;
import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.SectionRegistration;
import org.savevm.api.StateRegistry;
import org.savevm.api.vmstate.VMStateDescription;

class CommandsTest {
    @TempDir
    Path dir;

    static final class Regs {
        int a, b;
    }

    static final VMStateDescription<Regs> REGS = VMStateDescription.builder("regs", Regs.class).version(2)
            .minimumVersion(1).deviceType("regs-device")
            .field(uint8("a", r -> r.a, (r, v) -> r.a = v))
            .field(since(2, uint16("b", r -> r.b, (r, v) -> r.b = v)))
            .subsection(VMStateDescription.builder("regs/x", Regs.class).version(1).minimumVersion(1)
                    .needed(r -> false).field(uint8("x", r -> r.a, (r, v) -> r.a = v)).build())
            .build();

    static StateRegistry registryOf(VMStateDescription<Regs> d) {
        DeviceStateHandler<Regs> h = new DeviceStateHandler<>() {
            @Override
            public SectionRegistration registration() {
                return SectionRegistration.builder(d.name()).version(d.version()).build();
            }

            @Override
            public VMStateDescription<Regs> description() {
                return d;
            }

            @Override
            public Regs state() {
                return new Regs();
            }

            @Override
            public Regs copyOfState() {
                return new Regs();
            }

            @Override
            public void commit(Regs loaded) {
            }
        };
        RegisteredSection s = new RegisteredSection(7, d.name(), 0, -1, 0, null, 0, d.version(),
                MigrationPriority.DEFAULT, h, "test");
        return new StateRegistry() {
            @Override
            public RegistryView freeze() {
                throw new UnsupportedOperationException();
            }

            @Override
            public List<RegisteredSection> sections() {
                return List.of(s);
            }

            @Override
            public List<String> refused() {
                return List.of();
            }
        };
    }

    record Run(int status, String out, String err) {
    }

    static Run run(org.savevm.api.SavevmCommand c, String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = c.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void dumpVmstateWritesQemuDumpText() throws Exception {
        Path file = dir.resolve("dump.json");
        Run r = run(new DumpVmstateCommand(registryOf(REGS)), file.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("{\n"
                + "  \"vmschkmachine\": {\n"
                + "    \"Name\": \"pc-i440fx-7.2\"\n"
                + "  },\n"
                + "  \"regs-device\": {\n"
                + "    \"Name\": \"regs-device\",\n"
                + "    \"version_id\": 2,\n"
                + "    \"minimum_version_id\": 1,\n"
                + "    \"Description\": {\n"
                + "      \"name\": \"regs\",\n"
                + "      \"version_id\": 2,\n"
                + "      \"minimum_version_id\": 1,\n"
                + "      \"Fields\": [\n"
                + "        {\n"
                + "          \"field\": \"a\",\n"
                + "          \"version_id\": 0,\n"
                + "          \"field_exists\": false,\n"
                + "          \"size\": 1\n"
                + "        },\n"
                + "        {\n"
                + "          \"field\": \"b\",\n"
                + "          \"version_id\": 2,\n"
                + "          \"field_exists\": false,\n"
                + "          \"size\": 2\n"
                + "        }\n"
                + "      ],\n"
                + "      \"Subsections\": [\n"
                + "        {\n"
                + "          \"name\": \"regs/x\",\n"
                + "          \"version_id\": 1,\n"
                + "          \"minimum_version_id\": 1,\n"
                + "          \"Fields\": [\n"
                + "            {\n"
                + "              \"field\": \"x\",\n"
                + "              \"version_id\": 0,\n"
                + "              \"field_exists\": false,\n"
                + "              \"size\": 1\n"
                + "            }\n"
                + "          ]\n"
                + "        }\n"
                + "      ]\n"
                + "    }\n"
                + "  }\n"
                + "}\n", Files.readString(file));
        assertEquals(2, run(new DumpVmstateCommand(registryOf(REGS))).status());
    }

    @Test
    void checkVmstateExitStatus() throws Exception {
        Path old = dir.resolve("old.json");
        run(new DumpVmstateCommand(registryOf(REGS)), old.toString());
        VMStateDescription<Regs> raised = VMStateDescription.builder("regs", Regs.class).version(3).minimumVersion(3)
                .deviceType("regs-device").field(uint8("a", r -> r.a, (r, v) -> r.a = v)).build();
        Path neu = dir.resolve("new.json");
        run(new DumpVmstateCommand(registryOf(raised)), neu.toString());

        CheckVmstateCommand check = new CheckVmstateCommand();
        Run same = run(check, old.toString(), old.toString());
        assertEquals(0, same.status());
        assertEquals("compatible\n", same.out());
        Run bad = run(check, old.toString(), neu.toString());
        assertEquals(1, bad.status());
        assertTrue(bad.out().contains("Section \"regs-device\" Description \"regs\": minimum version error: 2 < 3"),
                bad.out());
        assertTrue(bad.out().contains("Section \"regs-device\" Description \"regs\": Entry \"Subsections\" missing"),
                bad.out());
        assertTrue(bad.out().endsWith("3 incompatibilities found\n"), bad.out());
        assertEquals(2, run(check, old.toString()).status());
        Path junk = dir.resolve("junk.json");
        Files.writeString(junk, "{not json");
        Run j = run(check, old.toString(), junk.toString());
        assertEquals(2, j.status());
        assertTrue(j.err().contains("invalid JSON"), j.err());
    }

    @Test
    void checkAcceptsGzippedQemuDump() throws Exception {
        Path gz = dir.resolve("qemu.json.gz");
        try (InputStream in = getClass().getResourceAsStream("/vmstate-pc-i440fx-7.2.json.gz")) {
            Files.copy(in, gz);
        }
        Run r = run(new CheckVmstateCommand(), gz.toString(), gz.toString());
        assertEquals(0, r.status(), r.out());
    }
}
