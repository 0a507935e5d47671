package org.savevm.image.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * QEMU's image locking (block/file-posix.c), so that savevm and QEMU refuse each other's images as two QEMUs do: a
 * guest's disk is not opened by a second writer, nor read by a reader that needs it unchanged.
 *
 * <p>The protocol lives in byte-range locks of the image file itself, all of them read locks: byte {@code 100 + i}
 * for each permission {@code i} the holder uses, byte {@code 200 + i} for each permission it does not let anyone
 * else have. Before taking its bytes an opener checks that no one else holds {@code 200 + i} for a permission it
 * wants (QEMU then says {@code Failed to get "write" lock}) nor {@code 100 + j} for a permission it will not share
 * ({@code Failed to get shared "write" lock}). Which permissions an image takes is what QEMU 7.2 holds for the same
 * image as a guest's drive (read from {@code /proc/locks}): a writable raw file uses consistent-read and write and
 * shares no write; a qcow2 file also uses resize and shares no resize (its metadata must not change under it); a
 * read-only file or a backing file uses consistent-read only and refuses writers the same way. So a second writer
 * and a writer beside a reader are refused, two readers are not; {@code qemu-img map} or {@code compare} of a raw
 * image we write still work (they share write), of a qcow2 image they are refused unless {@code -U}.
 *
 * <p>QEMU takes open-file-description locks, Java only classic POSIX record locks; the two kinds conflict with each
 * other (fcntl(2)), so each side sees the other's bytes. POSIX locks belong to the process, not the descriptor:
 * within this JVM the lock table refuses a second overlapping lock ({@link OverlappingFileLockException}), which here
 * means that another image of this process holds that byte — a conflict when checking, already held when taking —
 * and closing any descriptor of the file drops every lock the process has on it (another image of the same file
 * closing, a probe), after which this process no longer keeps QEMU out until the image is opened again. Checking
 * needs a write lock attempt, so the locks are kept on a descriptor of their own, opened read-write where the file
 * allows it; a file we may not write is locked but not checked (no other process can be refused through it).
 */
public final class ImageLocks implements AutoCloseable {
    static final int PERM_BASE = 100;
    static final int SHARED_BASE = 200;

    /** QEMU's BLK_PERM_* bits, in their order (the bit number is the byte's distance from its base). */
    public enum Permission {
        CONSISTENT_READ("consistent read"), WRITE("write"), WRITE_UNCHANGED("write unchanged"), RESIZE("resize");

        private final String qemuName;

        Permission(String qemuName) {
            this.qemuName = qemuName;
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final Set<Permission> used;
    private final Set<Permission> unshared;
    private final List<FileLock> held = new ArrayList<>();

    private ImageLocks(Path file, FileChannel channel, Set<Permission> used, Set<Permission> unshared) {
        this.file = file;
        this.channel = channel;
        this.used = used;
        this.unshared = unshared;
    }

    /** The locks QEMU 7.2 holds on a drive's file of this kind (see the class comment). */
    public static ImageLocks forImage(Path file, boolean qcow2, boolean readOnly) throws IOException {
        Set<Permission> used = EnumSet.of(Permission.CONSISTENT_READ);
        Set<Permission> unshared = EnumSet.of(Permission.WRITE);
        if (!readOnly) {
            used.add(Permission.WRITE);
            if (qcow2) {
                used.add(Permission.RESIZE);
            }
        }
        if (qcow2) {
            unshared.add(Permission.RESIZE);
        }
        return take(file, used, unshared);
    }

    /** Checks that no one else holds a conflicting byte, then takes this opener's bytes. */
    private static ImageLocks take(Path file, Set<Permission> used, Set<Permission> unshared) throws IOException {
        FileChannel ch;
        boolean canCheck = Files.isWritable(file);
        try {
            ch = canCheck ? FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            ch = FileChannel.open(file, StandardOpenOption.READ); // e.g. a read-only file system
            canCheck = false;
        }
        ImageLocks locks = new ImageLocks(file, ch, ordered(used), ordered(unshared));
        try {
            if (canCheck) {
                locks.check();
            }
            locks.apply();
            return locks;
        } catch (IOException | RuntimeException e) {
            locks.close();
            throw e;
        }
    }

    /** In QEMU's bit order, so that the first conflict named is the one QEMU would name. */
    private static Set<Permission> ordered(Set<Permission> permissions) {
        Set<Permission> s = EnumSet.noneOf(Permission.class);
        s.addAll(permissions);
        return s;
    }

    private void check() throws IOException {
        for (Permission p : used) {
            if (heldByOthers(SHARED_BASE + p.ordinal())) {
                throw refused("failed to get \"" + p.qemuName + "\" lock");
            }
        }
        for (Permission p : unshared) {
            if (heldByOthers(PERM_BASE + p.ordinal())) {
                throw refused("failed to get shared \"" + p.qemuName + "\" lock");
            }
        }
    }

    private IOException refused(String what) {
        return new IOException(file + ": " + what + ": is another process using the image?");
    }

    /** A write lock attempt on the byte, undone at once: refused if anyone but this image holds it. */
    private boolean heldByOthers(long position) throws IOException {
        FileLock probe;
        try {
            probe = channel.tryLock(position, 1, false);
        } catch (OverlappingFileLockException e) {
            return true; // another image of this process holds it
        }
        if (probe == null) {
            return true;
        }
        probe.release();
        return false;
    }

    /** Takes (again) every byte of this opener; one another image of this process already holds stays theirs. */
    public void apply() throws IOException {
        release();
        for (Permission p : used) {
            hold(PERM_BASE + p.ordinal());
        }
        for (Permission p : unshared) {
            hold(SHARED_BASE + p.ordinal());
        }
    }

    private void hold(long position) throws IOException {
        try {
            FileLock lock = channel.tryLock(position, 1, true);
            if (lock == null) {
                // only a write lock can refuse a read lock, and QEMU takes none: someone outside the protocol
                throw refused("byte " + position + " is write-locked");
            }
            held.add(lock);
        } catch (OverlappingFileLockException e) {
            // the process holds it already through another image of the same file
        }
    }

    private void release() throws IOException {
        for (FileLock l : held) {
            if (l.isValid()) {
                l.release();
            }
        }
        held.clear();
    }

    /** Releases the bytes (closing the descriptor drops them). */
    @Override
    public void close() throws IOException {
        held.clear();
        channel.close();
    }
}
