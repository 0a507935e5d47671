package org.savevm.image.qcow2;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded least-recently-used cache of metadata clusters (L2 tables or refcount blocks) keyed by host offset.
 * Metadata is written through to the file when it changes, so evicting an entry never loses anything.
 * Not thread-safe: the image's lock guards it.
 */
final class MetadataCache<T> {
    private final int capacity;
    private final LinkedHashMap<Long, T> entries;

    MetadataCache(int capacity) {
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, T> eldest) {
                return size() > MetadataCache.this.capacity;
            }
        };
    }

    T get(long hostOffset) {
        return entries.get(hostOffset);
    }

    void put(long hostOffset, T value) {
        entries.put(hostOffset, value);
    }

    void remove(long hostOffset) {
        entries.remove(hostOffset);
    }

    void clear() {
        entries.clear();
    }
}
