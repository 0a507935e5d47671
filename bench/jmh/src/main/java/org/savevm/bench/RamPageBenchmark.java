package org.savevm.bench;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.savevm.api.machine.RamBlock;
import org.savevm.ram.codec.PageCompression;
import org.savevm.ram.codec.XbzrleDecoder;
import org.savevm.ram.codec.XbzrleEncoder;
import org.savevm.ram.internal.ZeroPages;

/** Per-page costs of the RAM handler; one op is one 4 KiB page. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RamPageBenchmark {
    private static final int PAGE = RamBlock.TARGET_PAGE_SIZE;

    private ByteBuffer zeroPage;
    private ByteBuffer dataPage;
    private byte[] old;
    private byte[] cur;
    private byte[] encoded;
    private int encodedLen;
    private byte[] decodeTarget;
    /** Text-like page: compresses the way guest memory often does. */
    private byte[] textPage;
    private byte[] compressed;
    private int compressedLen;
    private byte[] out;
    private PageCompression level1;
    private PageCompression level6;

    @Setup
    public void setup() {
        Random rnd = new Random(1);
        zeroPage = ByteBuffer.allocateDirect(PAGE);
        dataPage = ByteBuffer.allocateDirect(PAGE);
        byte[] r = new byte[PAGE];
        rnd.nextBytes(r);
        dataPage.put(0, r);
        dataPage.put(PAGE - 1, (byte) 1);
        old = new byte[PAGE];
        rnd.nextBytes(old);
        cur = old.clone();
        // 16 changed runs of 8 bytes: a typical dirty page for XBZRLE
        for (int k = 0; k < 16; k++) {
            int at = k * 256 + 13;
            for (int i = 0; i < 8; i++) {
                cur[at + i] = (byte) ~cur[at + i];
            }
        }
        encoded = new byte[PAGE];
        encodedLen = XbzrleEncoder.encode(old, cur, PAGE, encoded, PAGE);
        decodeTarget = old.clone();
        textPage = new byte[PAGE];
        String words = "migration stream ram page zero xbzrle compress section device ";
        for (int i = 0; i < PAGE; i++) {
            textPage[i] = (byte) words.charAt((i * 7 + i / 61) % words.length());
        }
        out = new byte[PageCompression.MAX_COMPRESSED];
        level1 = new PageCompression(1);
        level6 = new PageCompression(6);
        compressed = new byte[PageCompression.MAX_COMPRESSED];
        compressedLen = level1.compress(textPage, 0, PAGE, compressed);
    }

    /** Worst case for detection: the whole page is read. */
    @Benchmark
    public boolean zeroPageDetectZero() {
        return ZeroPages.isZero(zeroPage);
    }

    /** Typical data page: the first word is non-zero. */
    @Benchmark
    public boolean zeroPageDetectData() {
        return ZeroPages.isZero(dataPage);
    }

    @Benchmark
    public int xbzrleEncode() {
        return XbzrleEncoder.encode(old, cur, PAGE, encoded, PAGE);
    }

    @Benchmark
    public int xbzrleEncodeUnchanged() {
        return XbzrleEncoder.encode(old, old, PAGE, encoded, PAGE);
    }

    @Benchmark
    public int xbzrleDecode() {
        return XbzrleDecoder.decode(encoded, encodedLen, decodeTarget, PAGE);
    }

    @Benchmark
    public int compressLevel1() {
        return level1.compress(textPage, 0, PAGE, out);
    }

    @Benchmark
    public int compressLevel6() {
        return level6.compress(textPage, 0, PAGE, out);
    }

    @Benchmark
    public int decompress() throws Exception {
        return level1.decompress(compressed, compressedLen, decodeTarget, PAGE);
    }
}
