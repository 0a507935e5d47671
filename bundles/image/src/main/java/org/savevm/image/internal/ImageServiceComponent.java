package org.savevm.image.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.CacheMode;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.ImageService;
import org.savevm.image.qcow2.Qcow2Create;
import org.savevm.image.qcow2.Qcow2Image;
import org.savevm.image.raw.RawImage;

/**
 * Opens and creates raw and qcow2 images (QEMU's bdrv_open with format probing and backing chains, and
 * {@code qemu-img create}). Backing files are opened read-only, relative names against the naming image's
 * directory; a chain that loops or is deeper than {@link #MAX_CHAIN_DEPTH} is refused.
 */
@Component(service = ImageService.class)
public final class ImageServiceComponent implements ImageService {
    /** qcow2's magic, "QFI\xfb" (QCOW_MAGIC). */
    public static final int QCOW2_MAGIC = 0x514649fb;
    /** Most backing files below one image; deeper chains are refused rather than opened without bound. */
    public static final int MAX_CHAIN_DEPTH = 64;

    @Override
    public BlockImage open(Path file, Optional<ImageFormat> format, boolean readOnly, CacheMode cache)
            throws IOException {
        return open(file, format, readOnly, cache, new ArrayList<>());
    }

    private BlockImage open(Path file, Optional<ImageFormat> format, boolean readOnly, CacheMode cache,
            List<Path> chain) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such image file"
                    + (chain.isEmpty() ? "" : " (backing file of " + chain.get(chain.size() - 1) + ")"));
        }
        Path real = file.toRealPath();
        if (chain.contains(real)) {
            throw new IOException(file + ": backing chain loops (" + chain + " -> " + real + ")");
        }
        if (chain.size() > MAX_CHAIN_DEPTH) {
            throw new IOException(file + ": backing chain deeper than " + MAX_CHAIN_DEPTH + " images");
        }
        chain.add(real);
        ImageFormat f = format.isPresent() ? format.get() : probe(file);
        switch (f) {
            case RAW:
                return RawImage.open(file, readOnly, cache);
            case QCOW2:
                return Qcow2Image.open(file, readOnly,
                        (backing, backingFormat) -> open(backing, backingFormat, true, cache, chain), cache);
            default:
                throw new IllegalStateException("unhandled format " + f);
        }
    }

    @Override
    public BlockImage create(Path file, ImageFormat format, long size, Optional<Path> backingFile,
            Optional<ImageFormat> backingFormat) throws IOException {
        switch (format) {
            case RAW:
                if (backingFile.isPresent()) {
                    throw new IOException(file + ": raw images have no backing file");
                }
                return RawImage.create(file, size);
            case QCOW2: {
                long s = size;
                Optional<String> fmt = Optional.empty();
                if (backingFile.isPresent()) {
                    Path name = backingFile.get();
                    Path resolved = name.isAbsolute() ? name : file.toAbsolutePath().getParent().resolve(name);
                    try (BlockImage b = open(resolved, backingFormat, true)) {
                        if (s == -1) {
                            s = b.size();
                        }
                        fmt = Optional.of(b.format().qemuName());
                    }
                } else if (backingFormat.isPresent()) {
                    throw new IOException(file + ": a backing format without a backing file");
                }
                Qcow2Create.create(file, s, backingFile.map(Path::toString), fmt);
                return open(file, Optional.of(ImageFormat.QCOW2), false);
            }
            default:
                throw new IllegalStateException("unhandled format " + format);
        }
    }

    /** qcow2 if the file starts with QFI\xfb, else raw (QEMU probes the same way, warning about raw). */
    public static ImageFormat probe(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such image file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer magic = ByteBuffer.allocate(4);
            while (magic.hasRemaining() && ch.read(magic, magic.position()) >= 0) {
                // until 4 bytes or the end of the file
            }
            return magic.position() == 4 && magic.getInt(0) == QCOW2_MAGIC ? ImageFormat.QCOW2 : ImageFormat.RAW;
        }
    }
}
