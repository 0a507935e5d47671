package org.savevm.migration.objects;

/** An object created with {@code -object} / {@code object-add} (QEMU's user-creatable objects). */
public interface UserObject {
    /** The object's id, unique among the objects of one process. */
    String id();

    /** The QOM type name, e.g. {@code tls-creds-x509}. */
    String type();
}
