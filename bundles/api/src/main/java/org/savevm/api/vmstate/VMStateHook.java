package org.savevm.api.vmstate;

/**
 * A pre_save, post_save or pre_load hook of a descriptor. Throwing aborts the save or load; the engine
 * reports the exception with the descriptor's name.
 */
@FunctionalInterface
public interface VMStateHook<T> {
    void run(T state) throws Exception;
}
