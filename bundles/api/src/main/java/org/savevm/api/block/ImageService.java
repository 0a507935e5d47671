package org.savevm.api.block;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/** Opens and creates images (a DS service of the image bundle), as {@code qemu-img create} and {@code -drive} do. */
@ProviderType
public interface ImageService {
    /**
     * Opens {@code file} in cache mode writeback (QEMU's default). With {@code format} empty the format is probed
     * (qcow2 magic, else raw, as QEMU warns but does). A qcow2 backing file is opened read-only, relative names resolved against {@code file}'s directory.
     */
    default BlockImage open(Path file, Optional<ImageFormat> format, boolean readOnly) throws IOException {
        return open(file, format, readOnly, CacheMode.WRITEBACK);
    }

    /**
     * Opens {@code file} with a cache mode (QEMU's {@code -drive cache=}) for its writes; backing files, read-only,
     * take the same mode. A mode the format or the file system cannot honour is refused, as QEMU refuses
     * {@code cache=none} where {@code O_DIRECT} is not available.
     */
    BlockImage open(Path file, Optional<ImageFormat> format, boolean readOnly, CacheMode cache) throws IOException;

    /**
     * Creates a new image of {@code size} bytes (raw: a sparse file; qcow2: version 3, 64 KiB clusters), with an
     * optional backing file for qcow2 (size may then be -1: the backing file's size). Fails if {@code file} exists.
     */
    BlockImage create(Path file, ImageFormat format, long size, Optional<Path> backingFile,
            Optional<ImageFormat> backingFormat) throws IOException;
}
