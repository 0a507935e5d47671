package org.savevm.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.savevm.api.block.BlockImage;
import org.savevm.api.block.CacheMode;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.ImageService;

/**
 * The demo's disk: one image for the source and one of the same size and format for the destination, in a
 * temporary directory that goes away with the demo. The children open them through their {@code --disk}
 * launcher option under QEMU's usual device name {@code disk0}.
 */
public final class DemoDisks implements AutoCloseable {
    /** No disk: the RAM-only demo. */
    public static final DemoDisks NONE = new DemoDisks(null, 0, ImageFormat.RAW, CacheMode.WRITEBACK);

    static final String DEVICE = "disk0";

    private final Path dir;
    private final long size;
    private final ImageFormat format;
    private final CacheMode cache;

    private DemoDisks(Path dir, long size, ImageFormat format, CacheMode cache) {
        this.cache = cache;
        this.dir = dir;
        this.size = size;
        this.format = format;
    }

    /** Both ends' images in a new temporary directory; the children open them in cache mode {@code cache}. */
    public static DemoDisks create(ImageService images, long size, ImageFormat format, CacheMode cache)
            throws IOException {
        Path dir = Files.createTempDirectory("savevm-demo-disks-");
        DemoDisks d = new DemoDisks(dir, size, format, cache);
        try {
            for (Path p : List.of(d.image(true), d.image(false))) {
                try (BlockImage img = images.create(p, format, size, Optional.empty(), Optional.empty())) {
                    img.flush();
                }
                // the children open it in this mode: a mode the format or file system refuses fails here, clearly
                images.open(p, Optional.of(format), false, cache).close();
            }
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    public boolean any() {
        return dir != null;
    }

    public int count() {
        return any() ? 1 : 0;
    }

    Path image(boolean source) {
        return dir.resolve((source ? "source." : "destination.") + format.qemuName());
    }

    /** The child's {@code --disk} option, with QEMU's ',,' escape for commas in the path. */
    public List<String> launcherOptions(boolean source) {
        if (!any()) {
            return List.of();
        }
        return List.of("--disk", image(source).toString().replace(",", ",,") + ",format=" + format.qemuName()
                + ",id=" + DEVICE + ",cache=" + cache.qemuName());
    }

    /** ", 1024 MiB qcow2 disk", or nothing. */
    public String describe() {
        return any() ? ", " + StatsTable.mib(size) + " " + format.qemuName() + " disk" : "";
    }

    @Override
    public void close() throws IOException {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
