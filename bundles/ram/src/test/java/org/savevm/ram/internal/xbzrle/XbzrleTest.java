package org.savevm.ram.internal.xbzrle;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.savevm.api.machine.RamBlock;
import org.savevm.ram.codec.Uleb128;
import org.savevm.ram.codec.XbzrleDecoder;
import org.savevm.ram.codec.XbzrleEncoder;

/** The cases of QEMU's tests/unit/test-xbzrle.c, plus the decoder's refusals. */
class XbzrleTest {
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;

    @Test
    void uleb128RoundTripsEveryValueWithTheSameLength() {
        byte[] buf = new byte[2];
        for (int i = 0; i <= Uleb128.MAX; i++) {
            int n = Uleb128.encode(buf, 0, i);
            assertEquals(Uleb128.length(i), n);
            int r = Uleb128.decode(buf, 0, 2);
            assertEquals(i, r >>> 8, "value " + i);
            assertEquals(n, r & 0xff);
        }
        assertEquals(-1, Uleb128.decode(new byte[] {(byte) 0x80, (byte) 0x80}, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> Uleb128.encode(buf, 0, 0x4000));
    }

    @Test
    void encodingAPageAgainstItselfGivesNothing() {
        byte[] page = new byte[PAGE];
        new Random(1).nextBytes(page);
        Arrays.fill(page, 0, 1000, (byte) 0);
        byte[] dst = new byte[PAGE];
        assertEquals(XbzrleEncoder.UNCHANGED, XbzrleEncoder.encode(page, page.clone(), PAGE, dst, PAGE));
        byte[] pattern = new byte[PAGE];
        for (int i = 0; i < PAGE; i++) {
            pattern[i] = (byte) (i * 7);
        }
        assertEquals(XbzrleEncoder.UNCHANGED, XbzrleEncoder.encode(pattern, pattern.clone(), PAGE, dst, PAGE));
    }

    @Test
    void oneChangedLastByteEncodesAsQemuDoes() {
        byte[] old = new byte[PAGE];
        byte[] cur = new byte[PAGE];
        cur[PAGE - 1] = 1;
        byte[] dst = new byte[PAGE];
        int len = XbzrleEncoder.encode(old, cur, PAGE, dst, PAGE);
        assertEquals(4, len);
        assertArrayEquals(new byte[] {(byte) 0xff, 0x1f, 0x01, 0x01}, Arrays.copyOf(dst, len));
        byte[] back = new byte[PAGE];
        assertEquals(PAGE, XbzrleDecoder.decode(dst, len, back, PAGE));
        assertArrayEquals(cur, back);
    }

    @Test
    void alternatingChangesOverflow() {
        byte[] old = new byte[PAGE];
        byte[] cur = new byte[PAGE];
        for (int i = 0; i < 2047; i++) {
            cur[2 * i] = 1;
        }
        assertEquals(XbzrleEncoder.OVERFLOW, XbzrleEncoder.encode(old, cur, PAGE, new byte[PAGE], PAGE));
    }

    @Test
    void randomPagesRoundTripAndEncodingIsCanonical() {
        Random rnd = new Random(42);
        byte[] dst = new byte[PAGE];
        for (int t = 0; t < 2000; t++) {
            byte[] old = new byte[PAGE];
            rnd.nextBytes(old);
            byte[] cur = old.clone();
            int from = 1000;
            int to = from + rnd.nextInt(PAGE - from);
            for (int i = from; i < to; i++) {
                if (rnd.nextInt(4) != 0) {
                    cur[i] = (byte) (cur[i] + 1 + rnd.nextInt(255));
                }
            }
            int len = XbzrleEncoder.encode(old, cur, PAGE, dst, PAGE);
            if (len == XbzrleEncoder.OVERFLOW || len == XbzrleEncoder.UNCHANGED) {
                continue;
            }
            assertTrue(len < PAGE);
            assertArrayEquals(naive(old, cur), Arrays.copyOf(dst, len), "case " + t);
            byte[] back = old.clone();
            int d = XbzrleDecoder.decode(dst, len, back, PAGE);
            assertTrue(d > 0 && d <= PAGE);
            assertArrayEquals(cur, back, "case " + t);
        }
    }

    /** The canonical form written byte by byte, to check the word-at-a-time encoder against. */
    private static byte[] naive(byte[] old, byte[] cur) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] tmp = new byte[2];
        int i = 0;
        while (true) {
            int z = i;
            while (i < PAGE && old[i] == cur[i]) {
                i++;
            }
            if (i == PAGE) {
                return out.toByteArray();
            }
            out.write(tmp, 0, Uleb128.encode(tmp, 0, i - z));
            int s = i;
            while (i < PAGE && old[i] != cur[i]) {
                i++;
            }
            out.write(tmp, 0, Uleb128.encode(tmp, 0, i - s));
            out.write(cur, s, i - s);
        }
    }

    @Test
    void overflowChecksFollowQemuExactly() {
        // One differing byte at the end needs 4 bytes: a 4-byte budget fits, 3 does not.
        byte[] old = new byte[PAGE];
        byte[] cur = new byte[PAGE];
        cur[PAGE - 1] = 9;
        assertEquals(4, XbzrleEncoder.encode(old, cur, PAGE, new byte[4], 4));
        assertEquals(XbzrleEncoder.OVERFLOW, XbzrleEncoder.encode(old, cur, PAGE, new byte[3], 3));
        // A fully changed page: zrun 0 (1 byte), nzrun PAGE (2 bytes) + PAGE bytes does not fit a page.
        byte[] ones = new byte[PAGE];
        Arrays.fill(ones, (byte) 1);
        assertEquals(XbzrleEncoder.OVERFLOW, XbzrleEncoder.encode(old, ones, PAGE, new byte[PAGE], PAGE));
    }

    @Test
    void decoderRefusesMalformedInput() {
        byte[] page = new byte[PAGE];
        // one byte left at a run start
        assertTrue(XbzrleDecoder.decode(new byte[] {5}, 1, page, PAGE) < 0);
        // bad second uleb byte
        assertTrue(XbzrleDecoder.decode(new byte[] {(byte) 0x80, (byte) 0x80, 1, 1}, 4, page, PAGE) < 0);
        // zero-length changed run
        assertTrue(XbzrleDecoder.decode(new byte[] {0, 0, 0}, 3, page, PAGE) < 0);
        // zero unchanged run after the first pair
        assertTrue(XbzrleDecoder.decode(new byte[] {0, 1, 7, 0, 1, 7}, 6, page, PAGE) < 0);
        // a run past the page end: zrun 4095, nzrun 2
        assertTrue(XbzrleDecoder.decode(new byte[] {(byte) 0xff, 0x1f, 2, 1, 1}, 5, page, PAGE) < 0);
        // changed run longer than the input
        int r = XbzrleDecoder.decode(new byte[] {0, 5, 1, 2}, 4, page, PAGE);
        assertTrue(r < 0);
        assertEquals(2, XbzrleDecoder.failedAt(r));
        // a first zero run of 0 is fine
        assertEquals(2, XbzrleDecoder.decode(new byte[] {0, 2, 9, 9}, 4, page, PAGE));
        assertEquals(9, page[0]);
        assertEquals(9, page[1]);
    }
}
