package org.savevm.architecture;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * No literal page size in main code outside {@code org.savevm.api.machine.RamBlock.TARGET_PAGE_SIZE}. The compiler
 * inlines that constant at every use, so the class files cannot tell {@code RamBlock.TARGET_PAGE_SIZE} from
 * {@code 4096}: this reads the main sources instead, with comments, strings and character literals blanked out, and
 * looks for 4096, 0x1000, 4 * 1024 and 1 << 12.
 */
class PageSizeLiteralTest {
    private static final Pattern LITERAL = Pattern.compile(
            "(?<![\\w.])(?:4096|0[xX]0*1000|4\\s*\\*\\s*1024|1\\s*<<\\s*12)[lL]?(?![\\w.])");

    /** The one place the page size is written down. */
    private static final String THE_CONSTANT = "bundles/api/src/main/java/org/savevm/api/machine/RamBlock.java"
            + "|int TARGET_PAGE_SIZE = 4096;";

    /** The same number where it is not a page size; "file|line as written, trimmed". */
    private static final Set<String> NOT_A_PAGE_SIZE = Set.of(
            // VMStateFlags' VMS_MUST_EXIST bit
            "bundles/api/src/main/java/org/savevm/api/vmstate/VMStateFlags.java|public static final int MUST_EXIST = 0x1000;",
            // bytes of a child process's stderr kept for the error message
            "bundles/migration/src/main/java/org/savevm/migration/transport/ExecConnection.java"
                    + "|private static final int STDERR_KEEP = 4096;",
            // initial capacity of the vmdesc JSON buffer
            "bundles/framing/src/main/java/org/savevm/framing/VmDescription.java"
                    + "|private final StringBuilder json = new StringBuilder(4096);",
            // a bound on the number of RAM blocks a stream may announce
            "bundles/ram/src/main/java/org/savevm/ram/internal/RamSectionAnalyzer.java|static final int MAX_BLOCKS = 4096;",
            // multifd-zlib receive buffer: room for deflate bytes a previous packet left unconsumed, not a page
            "bundles/migration/src/main/java/org/savevm/migration/multifd/PacketDeflater.java"
                    + "|private final ByteBuffer in = ByteBuffer.allocateDirect(MultifdWire.MAX_COMPRESSED + 4096);",
            // QEMU 7.2's used lengths of two fw_cfg ROM blocks
            "bundles/machine/src/main/java/org/savevm/machine/internal/MachineProfile.java"
                    + "|l.add(new RamBlockSpec(\"/rom@etc/table-loader\", 0x1000, 0x1000, true, 0));",
            "bundles/machine/src/main/java/org/savevm/machine/internal/MachineProfile.java"
                    + "|l.add(new RamBlockSpec(\"/rom@etc/acpi/rsdp\", 0x1000, 0x1000, true, 0));");

    /**
     * Page sizes still written as a number when this test was added, in code that issue 9's other work items are
     * rewriting (one codec per format, the orchestrator contract, the demo bundle). Once those are merged this set
     * should be empty: an entry whose line is gone fails the test, so remove it then.
     */
    private static final Set<String> PAGE_SIZE_LITERALS_TO_REMOVE = Set.of();

    @Test
    void noLiteralPageSizeOutsideTheOneConstant() throws IOException {
        Path root = Path.of(System.getProperty("savevm.root", "..")).toAbsolutePath().normalize();
        List<Path> sourceRoots = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root, 6)) {
            s.filter(p -> p.endsWith(Path.of("src", "main", "java")) && !p.toString().contains("/target/"))
                    .forEach(sourceRoots::add);
        }
        assertTrue(sourceRoots.size() > 10, "main source roots under " + root + ": " + sourceRoots);
        Set<String> found = new TreeSet<>();
        List<String> offenders = new ArrayList<>();
        for (Path sourceRoot : sourceRoots) {
            try (Stream<Path> files = Files.walk(sourceRoot)) {
                for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                    String rel = root.relativize(f).toString().replace('\\', '/');
                    String[] original = Files.readString(f, StandardCharsets.UTF_8).split("\n", -1);
                    String[] code = codeOnly(String.join("\n", original)).split("\n", -1);
                    for (int i = 0; i < code.length; i++) {
                        Matcher m = LITERAL.matcher(code[i]);
                        if (!m.find()) {
                            continue;
                        }
                        String key = rel + "|" + original[i].trim();
                        found.add(key);
                        if (!key.equals(THE_CONSTANT) && !NOT_A_PAGE_SIZE.contains(key)
                                && !PAGE_SIZE_LITERALS_TO_REMOVE.contains(key)) {
                            offenders.add(rel + ":" + (i + 1) + ": " + original[i].trim());
                        }
                    }
                }
            }
        }
        Set<String> stale = new TreeSet<>(NOT_A_PAGE_SIZE);
        stale.addAll(PAGE_SIZE_LITERALS_TO_REMOVE);
        stale.removeAll(found);
        if (!offenders.isEmpty() || !stale.isEmpty()) {
            fail("a page size is written as a number; use org.savevm.api.machine.RamBlock.TARGET_PAGE_SIZE:\n  "
                    + String.join("\n  ", offenders)
                    + (stale.isEmpty() ? "" : "\nallow-list entries that match no line any more, remove them:\n  "
                            + String.join("\n  ", stale)));
        }
        assertTrue(found.contains(THE_CONSTANT), "the constant itself was not found: " + THE_CONSTANT);
    }

    /** Java source with comments, string, text-block and character literals replaced by spaces; lines kept. */
    static String codeOnly(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                while (i < n && src.charAt(i) != '\n') {
                    out.append(' ');
                    i++;
                }
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                blank(src, i, end, out);
                i = end;
            } else if (src.startsWith("\"\"\"", i)) {
                int end = src.indexOf("\"\"\"", i + 3);
                end = end < 0 ? n : end + 3;
                blank(src, i, end, out);
                i = end;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && src.charAt(j) != c && src.charAt(j) != '\n') {
                    j += src.charAt(j) == '\\' ? 2 : 1;
                }
                int end = Math.min(n, j + 1);
                blank(src, i, end, out);
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static void blank(String src, int from, int to, StringBuilder out) {
        for (int k = from; k < to; k++) {
            out.append(src.charAt(k) == '\n' ? '\n' : ' ');
        }
    }
}
