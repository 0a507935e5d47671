package org.savevm.api.vmstate;

/** A post_load hook: runs after the fields and subsections loaded, with the version the stream carried. */
@FunctionalInterface
public interface VMStatePostLoad<T> {
    void run(T state, int versionId) throws Exception;
}
