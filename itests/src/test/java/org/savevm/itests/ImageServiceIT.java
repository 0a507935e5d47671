package org.savevm.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.savevm.api.block.BlockImage;
import org.savevm.api.block.BlockStatus;
import org.savevm.api.block.ImageFormat;
import org.savevm.api.block.ImageService;

/** The image bundle's ImageService inside Felix, provisioned from features/core.json: a qcow2 chain and a raw image. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ImageServiceIT {
    @Inject
    private ImageService images;

    @Configuration
    public Option[] config() throws Exception {
        return options(
                composite(Provision.feature("core")),
                junitBundles(),
                systemProperty("savevm.provision").value(Provision.dir().getPath()),
                systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"),
                cleanCaches());
    }

    @Test
    public void qcow2OverlayOnARawBaseThroughTheService() throws Exception {
        Path dir = Files.createTempDirectory("image-it");
        Path base = dir.resolve("base.raw");
        Path top = dir.resolve("top.qcow2");
        byte[] data = new byte[100_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        try (BlockImage raw = images.create(base, ImageFormat.RAW, 4 << 20, Optional.empty(), Optional.empty())) {
            raw.write(1 << 20, ByteBuffer.wrap(data));
        }
        try (BlockImage img = images.create(top, ImageFormat.QCOW2, -1, Optional.of(Path.of("base.raw")),
                Optional.of(ImageFormat.RAW))) {
            img.write((1 << 20) + 10, ByteBuffer.wrap(new byte[] { 1, 2, 3 }));
        }
        try (BlockImage img = images.open(top, Optional.empty(), true)) {
            assertEquals(ImageFormat.QCOW2, img.format());
            assertEquals(4L << 20, img.size());
            ByteBuffer b = ByteBuffer.allocate(data.length);
            img.read(1 << 20, b);
            byte[] expect = data.clone();
            expect[10] = 1;
            expect[11] = 2;
            expect[12] = 3;
            assertArrayEquals(expect, b.array());
            BlockStatus s = img.blockStatus(1 << 20, 1 << 20);
            assertEquals(0, s.depth());
            BlockStatus below = img.blockStatus(2 << 20, 1 << 20);
            assertEquals(1, below.depth());
            assertFalse(below.allocated());
        }
    }
}
