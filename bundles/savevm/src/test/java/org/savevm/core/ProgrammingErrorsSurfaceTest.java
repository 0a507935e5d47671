package org.savevm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.savevm.framing.SectionHeader;
import org.savevm.framing.walk.StreamVisitor;
import org.savevm.framing.walk.StreamWalker;
import org.savevm.framing.walk.WalkOptions;
import org.savevm.stream.MigrationInput;
import org.savevm.stream.MigrationStreamException;
import org.savevm.stream.ProgrammingErrors;

/**
 * issue 13: the walker turned every RuntimeException of a section body into a MigrationStreamException,
 * so a bug looked like a bad stream. A programming error now surfaces as itself; other runtime exceptions
 * (a handler's validation) are still stream errors with the section named, the original as the cause.
 */
class ProgrammingErrorsSurfaceTest {

    /** Header, one FULL section "x" with an empty body and its footer, EOF. */
    private static byte[] stream() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.writeInt(0x5145564d);
        d.writeInt(3);
        d.writeByte(0x04);
        d.writeInt(1);
        d.writeByte(1);
        d.writeBytes("x");
        d.writeInt(0);
        d.writeInt(1);
        d.writeByte(0x7e);
        d.writeInt(1);
        d.writeByte(0x00);
        return b.toByteArray();
    }

    private static void walk(RuntimeException fromBody) throws IOException {
        StreamVisitor<Object> v = new StreamVisitor<>() {
            @Override
            public Object section(SectionHeader header, Object started) {
                return header;
            }

            @Override
            public void body(Object section, SectionHeader header, MigrationInput in) {
                throw fromBody;
            }
        };
        new StreamWalker<>(new WalkOptions(WalkOptions.Footers.PRESENT, WalkOptions.Configuration.ABSENT, Set.of(),
                false, 1 << 20, 1 << 20), v).walk(MigrationInput.of(stream()));
    }

    @Test
    void programmingErrorsOfABodySurfaceAsThemselves() {
        for (RuntimeException bug : new RuntimeException[] {new NullPointerException("bug"),
                new ArrayIndexOutOfBoundsException(7), new ClassCastException("bug"), new ArithmeticException("/ 0"),
                new IllegalStateException("bug")}) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> walk(bug));
            assertSame(bug, e);
        }
    }

    @Test
    void otherRuntimeExceptionsStayStreamErrorsNamingTheSection() {
        IllegalArgumentException invalid = new IllegalArgumentException("value out of range");
        MigrationStreamException e = assertThrows(MigrationStreamException.class, () -> walk(invalid));
        assertSame(invalid, e.getCause());
        assertTrue(e.getMessage().startsWith("FULL section 'x' instance 0 (section id 1, starting at byte 8): "
                + "java.lang.IllegalArgumentException: value out of range"), e.getMessage());
        assertNull(ProgrammingErrors.find(e));
    }

    @Test
    void theOracleFindsAProgrammingErrorAnywhereInTheCauseChain() {
        NullPointerException npe = new NullPointerException();
        MigrationStreamException wrapped = new MigrationStreamException("x", 1,
                new IOException("y", new RuntimeException(npe)));
        assertSame(npe, ProgrammingErrors.find(wrapped));
        IOException suppressing = new IOException("z");
        suppressing.addSuppressed(new IndexOutOfBoundsException());
        assertInstanceOf(IndexOutOfBoundsException.class, ProgrammingErrors.find(suppressing));
        assertEquals(null, ProgrammingErrors.find(new MigrationStreamException("plain", 0)));
    }
}
