package org.savevm.stream;

/**
 * Decides how many bytes a writer may still send in the current time slice (QEMU's
 * qemu_file_rate_limit). Handlers ask {@link MigrationOutput#rateLimitExceeded()} between pages.
 */
public interface RateLimiter {
    /** No limit at all. */
    RateLimiter UNLIMITED = new RateLimiter() {
        @Override
        public boolean exceeded(long bytesWrittenTotal) {
            return false;
        }
    };

    /** True when the writer has used up its budget for the current period. */
    boolean exceeded(long bytesWrittenTotal);
}
