package org.savevm.stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.Test;

/** issue 13: what counts as a bug behind a refusal, for the loaders' narrowed wrapping and the fuzz oracle. */
class ProgrammingErrorsTest {
    @Test
    void jdkIllegalArgumentIsABugOursIsARefusal() {
        IllegalArgumentException jdk = assertThrows(IllegalArgumentException.class, () -> ByteBuffer.allocate(4).position(-1));
        assertTrue(ProgrammingErrors.is(jdk));
        assertFalse(ProgrammingErrors.is(new IllegalArgumentException("compress-level must be 0..9: 12")));
        assertTrue(ProgrammingErrors.is(assertThrows(UnsupportedOperationException.class, () -> List.of().add(1))));
    }

    @Test
    void findLooksThroughCausesAndSuppressed() {
        NullPointerException npe = new NullPointerException();
        IOException refusal = new MigrationStreamException("bad", 3, new IOException("wrapped", npe));
        assertSame(npe, ProgrammingErrors.find(refusal));
        IOException clean = new IOException("bad");
        IOException withSuppressed = new IOException("bad");
        ArithmeticException ae = new ArithmeticException();
        withSuppressed.addSuppressed(ae);
        assertNull(ProgrammingErrors.find(clean));
        assertSame(ae, ProgrammingErrors.find(withSuppressed));
    }
}
