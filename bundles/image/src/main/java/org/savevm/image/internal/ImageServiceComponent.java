package org.savevm.image.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import org.osgi.service.component.annotations.Component;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.ImageService;
import org.savevm.image.raw.RawImage;

/** Opens and creates raw and qcow2 images (QEMU's bdrv_open with format probing, and qemu-img create). */
@Component(service = ImageService.class)
public final class ImageServiceComponent implements ImageService {
    /** qcow2's magic, "QFI\xfb" (QCOW_MAGIC). */
    public static final int QCOW2_MAGIC = 0x514649fb;

    @Override
    public BlockImage open(Path file, Optional<ImageFormat> format, boolean readOnly) throws IOException {
        ImageFormat f = format.isPresent() ? format.get() : probe(file);
        switch (f) {
            case RAW:
                return RawImage.open(file, readOnly);
            case QCOW2:
                throw new IOException(file + ": qcow2 images are not supported yet");
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
            case QCOW2:
                throw new IOException(file + ": qcow2 images are not supported yet");
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
                // keep reading until 4 bytes or EOF
            }
            return magic.position() == 4 && magic.getInt(0) == QCOW2_MAGIC ? ImageFormat.QCOW2 : ImageFormat.RAW;
        }
    }
}
