package org.savevm.image.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.image.internal.QemuImg;

/** Test helpers: whole-image reads, our map vs qemu-img map, qemu-img check / compare as judges. */
final class Images {
    private Images() {
    }

    /** One extent of a map: what both QEMU and we can say (depth as our contract counts it). */
    record Extent(long start, long length, int depth, boolean zero, boolean data) {
    }

    static byte[] readAll(BlockImage img) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) img.size());
        img.read(0, b);
        return b.array();
    }

    /** Our blockStatus over the whole image, adjacent equal extents merged. */
    static List<Extent> ourMap(BlockImage img) throws IOException {
        List<Extent> out = new ArrayList<>();
        long at = 0;
        while (at < img.size()) {
            BlockStatus s = img.blockStatus(at, img.size() - at);
            assertEquals(at, s.offset());
            add(out, new Extent(s.offset(), s.length(), s.depth(), s.zero(), s.data()));
            at = s.end();
        }
        return out;
    }

    private static final Pattern MAP_LINE = Pattern.compile("\"start\": (\\d+), \"length\": (\\d+), \"depth\": (\\d+), "
            + "\"present\": (true|false), \"zero\": (true|false), \"data\": (true|false)");

    /**
     * qemu-img map --output=json, merged. QEMU gives an extent allocated nowhere the bottom image's depth
     * ("present": false); our contract says one more, the chain's length.
     */
    static List<Extent> qemuMap(Path image, String format) throws IOException, InterruptedException {
        String json = QemuImg.ok(QemuImg.QEMU_IMG, "map", "-U", "--output=json", "-f", format, image.toString());
        List<Extent> out = new ArrayList<>();
        Matcher m = MAP_LINE.matcher(json);
        while (m.find()) {
            boolean present = Boolean.parseBoolean(m.group(4));
            int depth = Integer.parseInt(m.group(3)) + (present ? 0 : 1);
            add(out, new Extent(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), depth,
                    Boolean.parseBoolean(m.group(5)), Boolean.parseBoolean(m.group(6))));
        }
        return out;
    }

    private static void add(List<Extent> out, Extent e) {
        if (!out.isEmpty()) {
            Extent last = out.get(out.size() - 1);
            if (last.depth() == e.depth() && last.zero() == e.zero() && last.data() == e.data()
                    && last.start() + last.length() == e.start()) {
                out.set(out.size() - 1, new Extent(last.start(), last.length() + e.length(), e.depth(), e.zero(),
                        e.data()));
                return;
            }
        }
        out.add(e);
    }

    /** qemu-img check must find nothing: no errors, no leaks. */
    static void assertCheckClean(Path image) throws IOException, InterruptedException {
        QemuImg.Result r = QemuImg.run(QemuImg.QEMU_IMG, "check", "-U", "-f", "qcow2", image.toString());
        if (r.exit() != 0 || !r.out().contains("No errors were found")) {
            throw new AssertionError("qemu-img check " + image + " exited " + r.exit() + ":\n" + r.out() + r.err());
        }
    }

    /** qemu-img compare of two images must say identical (guest bytes; allocation may differ). */
    static void assertQemuCompareEqual(Path a, String fa, Path b, String fb) throws IOException, InterruptedException {
        QemuImg.Result r = QemuImg.run(QemuImg.QEMU_IMG, "compare", "-U", "-f", fa, "-F", fb, a.toString(),
                b.toString());
        if (r.exit() != 0) {
            throw new AssertionError("qemu-img compare " + a + " " + b + " exited " + r.exit() + ": " + r.out()
                    + r.err());
        }
    }

    /** QEMU's view of an image's guest bytes: qemu-img convert to raw. */
    static byte[] qemuRead(Path image, String format, Path dir) throws IOException, InterruptedException {
        Path raw = Files.createTempFile(dir, "qemu-view", ".raw");
        Files.delete(raw);
        QemuImg.ok(QemuImg.QEMU_IMG, "convert", "-U", "-f", format, "-O", "raw", image.toString(), raw.toString());
        byte[] b = Files.readAllBytes(raw);
        Files.delete(raw);
        return b;
    }
}
