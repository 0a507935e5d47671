package org.savevm.analyze.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.ImageService;
import org.savevm.ram.internal.RamSectionAnalyzer;
import org.savevm.testing.MemoryBlockImage;
import org.savevm.testing.MemorySnapshotImage;
import org.savevm.vmstate.internal.VMStateEngineComponent;
import org.savevm.vmstate.internal.json.VMStateJsonComponent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * analyze-stream --snapshot NAME IMAGE: the VM state of an internal snapshot decodes exactly as the same stream in a
 * file does (a QEMU 7.2 corpus stream stored as a snapshot's VM state); disk-only snapshots, missing ones and images
 * without snapshots are refused with the reason.
 */
class AnalyzeSnapshotTest {
    @TempDir
    Path tmp;

    private static final class Images implements ImageService {
        final Map<Path, BlockImage> images;

        Images(Map<Path, BlockImage> images) {
            this.images = images;
        }

        @Override
        public BlockImage open(Path file, Optional<ImageFormat> format, boolean readOnly,
                org.savevm.api.block.CacheMode cache) throws IOException {
            BlockImage i = images.get(file);
            if (i == null) {
                throw new IOException(file + ": no such image");
            }
            return i;
        }

        @Override
        public BlockImage create(Path file, ImageFormat format, long size, Optional<Path> backingFile,
                Optional<ImageFormat> backingFormat) {
            throw new UnsupportedOperationException();
        }
    }

    private static String[] run(ImageService images, String... args) throws Exception {
        AnalyzeStreamCommand c = new AnalyzeStreamCommand(new VMStateJsonComponent(),
                new VMStateEngineComponent(Map.of()), List.of(new RamSectionAnalyzer()));
        c.images = images;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = c.run(List.of(args), o, e);
        }
        return new String[] {Integer.toString(status), out.toString(StandardCharsets.UTF_8),
            err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void theVmStateOfASnapshotDecodesAsTheStreamFileDoes() throws Exception {
        Path stream = AnalyzeStreamCommandTest.corpus("paused-16M.mig");
        byte[] bytes = Files.readAllBytes(stream);
        MemorySnapshotImage disk = new MemorySnapshotImage("disk", 1 << 20);
        disk.writeVmState(0, ByteBuffer.wrap(bytes));
        disk.create("s1", bytes.length, 1, 0, 0, -1);
        disk.create("disk-only", 0, 2, 0, 0, -1);
        // the files exist (the command checks FILE); the fake service serves the images for their paths
        Path image = Files.createFile(tmp.resolve("d.qcow2"));
        Path raw = Files.createFile(tmp.resolve("r.raw"));
        Images images = new Images(Map.of(image, disk, raw, new MemoryBlockImage("r", 1 << 20)));

        String[] direct = run(images, "--json", stream.toString());
        String[] fromSnapshot = run(images, "--json", "--snapshot", "s1", image.toString());
        assertEquals("0", fromSnapshot[0], fromSnapshot[2]);
        ObjectNode a = (ObjectNode) new ObjectMapper().readTree(direct[1]);
        ObjectNode b = (ObjectNode) new ObjectMapper().readTree(fromSnapshot[1]);
        assertEquals(image + " (snapshot 1 's1')", b.path("file").asText());
        a.remove("file");
        b.remove("file");
        assertEquals(a, b, "the snapshot's VM state decodes as the stream file");
        JsonNode ram = b.path("ram");
        assertTrue(ram.path("blocks").size() > 0, ram.toString());
        // by id as well, and as text
        assertEquals("0", run(images, "--snapshot", "1", image.toString())[0]);

        String[] diskOnly = run(images, "--snapshot", "disk-only", image.toString());
        assertEquals("1", diskOnly[0]);
        assertTrue(diskOnly[2].contains("snapshot 'disk-only' is disk-only: it has no VM state"), diskOnly[2]);
        String[] missing = run(images, "--snapshot", "nope", image.toString());
        assertTrue(missing[2].contains("no snapshot 'nope'"), missing[2]);
        String[] rawImage = run(images, "--snapshot", "s1", raw.toString());
        assertTrue(rawImage[2].contains("raw images have no internal snapshots"), rawImage[2]);
        String[] noService = run(null, "--snapshot", "s1", image.toString());
        assertTrue(noService[2].contains("--snapshot needs the image bundle"), noService[2]);
    }
}
