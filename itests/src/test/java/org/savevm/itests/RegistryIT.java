package org.savevm.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import javax.inject.Inject;

import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.savevm.api.LiveStateHandler;
import org.savevm.api.MigrationPriority;
import org.savevm.api.RegisteredSection;
import org.savevm.api.RegistryView;
import org.savevm.api.SavevmCommand;
import org.savevm.api.SectionRegistration;
import org.savevm.api.StateRegistry;

/** The registry, the example handler and the handlers command inside Felix, provisioned from features/core.json. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RegistryIT {
    private static final long WAIT_MS = 5_000;

    @Inject
    private BundleContext context;

    @Inject
    private StateRegistry registry;

    private final List<ServiceRegistration<?>> registered = new ArrayList<>();

    @Configuration
    public Option[] config() throws Exception {
        return options(
                composite(Provision.feature("core")),
                junitBundles(),
                systemProperty("savevm.provision").value(Provision.dir().getPath()),
                systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"),
                cleanCaches());
    }

    @After
    public void unregister() {
        registered.forEach(ServiceRegistration::unregister);
        registered.clear();
    }

    private void register(SectionRegistration r) {
        registered.add(context.registerService(LiveStateHandler.class, new TestHandler(r), null));
    }

    private Optional<RegisteredSection> section(String idstr) {
        return registry.sections().stream().filter(s -> s.idstr().equals(idstr)).findFirst();
    }

    private static <T> T waitFor(String what, Supplier<T> probe) throws InterruptedException {
        long end = System.currentTimeMillis() + WAIT_MS;
        while (System.currentTimeMillis() < end) {
            T v = probe.get();
            if (v != null && !Boolean.FALSE.equals(v)) {
                return v;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out after " + WAIT_MS + " ms waiting for " + what);
    }

    @Test
    public void coreHandlersAreListedInPriorityOrder() throws Exception {
        register(SectionRegistration.builder("itest-iommu").priority(MigrationPriority.IOMMU).build());
        register(SectionRegistration.builder("itest-gicv3").priority(MigrationPriority.GICV3).build());
        waitFor("test handlers", () -> section("itest-iommu").isPresent() && section("itest-gicv3").isPresent());
        List<RegisteredSection> sections = registry.sections();
        for (int i = 1; i < sections.size(); i++) {
            assertTrue("save order broken at " + sections.get(i).describe() + ": " + sections,
                    sections.get(i - 1).priority().value() >= sections.get(i).priority().value());
        }
        assertEquals("itest-gicv3", sections.get(0).idstr());
        assertEquals("itest-iommu", sections.get(1).idstr());
        for (String core : List.of("timer", "ram")) {
            assertTrue(core + " missing from " + sections, section(core).isPresent());
        }
    }

    @Test
    public void exampleBundleJoinsAndLeavesAtRuntime() throws Exception {
        assertFalse(section("example").isPresent());
        Bundle b = context.installBundle(Provision.exampleHandlerJar().toURI().toString());
        try {
            b.start();
            RegisteredSection s = waitFor("example section", () -> section("example").orElse(null));
            assertEquals(0, s.instanceId());
            assertEquals("org.savevm.example.handler", s.bundle());
            assertTrue(s.isLive());
            assertTrue(registry.freeze().find("example", 0).isPresent());
            RegisteredSection device = waitFor("example-device section", () -> section("example-device").orElse(null));
            assertEquals(0, device.instanceId());
            assertFalse("descriptor device", device.isLive());
        } finally {
            b.uninstall();
        }
        waitFor("example sections gone", () -> section("example").isEmpty() && section("example-device").isEmpty());
        assertFalse(registry.freeze().find("example", 0).isPresent());
    }

    @Test
    public void sameIdstrGetsInstancesByIdentityWhicheverStartsFirst() throws Exception {
        for (boolean aFirst : new boolean[] {true, false}) {
            SectionRegistration a = SectionRegistration.builder("twin").autoInstance().orderKey("twin-a").build();
            SectionRegistration b = SectionRegistration.builder("twin").autoInstance().orderKey("twin-b").build();
            register(aFirst ? a : b);
            register(aFirst ? b : a);
            waitFor("two twins", () -> registry.sections().stream().filter(s -> s.idstr().equals("twin")).count() == 2);
            RegistryView view = registry.freeze();
            assertEquals("a first: " + aFirst, a, view.find("twin", 0).orElseThrow().handler().registration());
            assertEquals("a first: " + aFirst, b, view.find("twin", 1).orElseThrow().handler().registration());
            unregister();
            waitFor("twins gone", () -> section("twin").isEmpty());
        }
    }

    @Test
    public void compatIdstrAndAliasIdAreFoundOnLoad() throws Exception {
        register(SectionRegistration.builder("itest-dev").devicePath("0000:00:03.0").autoInstance().build());
        register(SectionRegistration.builder("itest-isa").instanceId(7).alias(0x3f8, 3).version(3).build());
        waitFor("test handlers", () -> section("0000:00:03.0/itest-dev").isPresent() && section("itest-isa").isPresent());
        RegistryView view = registry.freeze();
        RegisteredSection dev = view.find("0000:00:03.0/itest-dev", 0).orElseThrow();
        assertEquals("itest-dev", dev.compatIdstr());
        assertEquals(dev, view.find("itest-dev", 0).orElseThrow());
        assertFalse(view.find("itest-dev", 1).isPresent());
        RegisteredSection isa = view.find("itest-isa", 7).orElseThrow();
        assertEquals(isa, view.find("itest-isa", 0x3f8).orElseThrow());
        assertFalse(view.find("itest-isa", 8).isPresent());
    }

    @Test
    public void unmigratableHandlerBlocksMigration() throws Exception {
        assertTrue(registry.freeze().blockers().isEmpty());
        register(SectionRegistration.builder("itest-passthrough").unmigratable(true).build());
        waitFor("blocker", () -> section("itest-passthrough").isPresent());
        assertEquals(List.of("State blocked by non-migratable device 'itest-passthrough'"), registry.freeze().blockers());
        unregister();
        waitFor("no blocker", () -> registry.freeze().blockers().isEmpty());
    }

    @Test
    public void handlersCommandPrintsTheTableInSaveOrder() throws Exception {
        register(SectionRegistration.builder("itest-listed").priority(MigrationPriority.PCI_BUS).version(9).build());
        waitFor("test handler", () -> section("itest-listed").isPresent());
        SavevmCommand handlers = waitFor("handlers command", () -> command("handlers"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = handlers.run(List.of(), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(err.toString(StandardCharsets.UTF_8), 0, rc);
        String[] lines = text.split("\\R");
        assertTrue(text, lines[0].startsWith("SECTION") && lines[0].contains("IDSTR") && lines[0].contains("PRIORITY"));
        String first = lines[1];
        assertTrue(text, first.matches("\\d+\\s+itest-listed\\s+0\\s+-\\s+-\\s+9\\s+pci_bus\\(2\\)\\s+live\\s+\\S+"));
        assertTrue(text, text.contains(" timer ") && text.contains(" ram "));
        assertTrue(text, text.trim().endsWith(registry.sections().size() + " sections"));
        assertEquals(2, handlers.run(List.of("--bogus"), new PrintStream(out), new PrintStream(err)));
    }

    private SavevmCommand command(String name) {
        try {
            for (ServiceReference<SavevmCommand> ref : context.getServiceReferences(SavevmCommand.class, null)) {
                SavevmCommand c = context.getService(ref);
                if (c != null && c.name().equals(name)) {
                    return c;
                }
            }
            return null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
