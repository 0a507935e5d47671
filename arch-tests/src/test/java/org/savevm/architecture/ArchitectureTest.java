package org.savevm.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

/**
 * The layering of the bundles, checked on the built jars (main classes only; tests may reach anything):
 * <ul>
 * <li>{@code org.savevm.stream} depends on nothing of ours; {@code org.savevm.api} only on the stream;</li>
 * <li>no bundle reaches into another bundle's packages other than those it exports (its MANIFEST's
 * Export-Package; which bundle a class belongs to is which jar it came from);</li>
 * <li>the savevm core ({@code org.savevm.core}) and the stream framing with its walker ({@code org.savevm.framing})
 * know no ram or block format: no dependency on a ram or block bundle, no class of their own named for one.</li>
 * </ul>
 */
class ArchitectureTest {
    /**
     * Classes in the core named for the ram or block format that exist today. analyze-stream's own ram and block
     * decoders are moving out of the core (issue 9 items 2 and 3): once merged, empty this set; an entry that no
     * longer matches a class fails the test so the list cannot go stale.
     */
    private static final Set<String> CORE_FORMAT_CLASSES_STILL_THERE = Set.of();

    static Path root;
    static List<BundleJars.Bundle> bundles;
    static JavaClasses classes;
    /** Owning bundles of each class name (a class may be in more than one jar, e.g. a private copy). */
    static Map<String, List<BundleJars.Bundle>> owners = new HashMap<>();

    @BeforeAll
    static void importBundles() throws IOException {
        root = Path.of(System.getProperty("savevm.root", "..")).toAbsolutePath().normalize();
        bundles = BundleJars.onClassPath();
        List<Location> locations = new ArrayList<>();
        for (BundleJars.Bundle b : bundles) {
            locations.add(Files.isDirectory(b.location()) ? Location.of(b.location())
                    : Location.of(new JarFile(b.location().toFile())));
        }
        classes = new ClassFileImporter().importLocations(locations);
        for (JavaClass c : classes) {
            String uri = c.getSource().map(s -> s.getUri().toString()).orElse("");
            for (BundleJars.Bundle b : bundles) {
                if (b.owns(uri)) {
                    owners.computeIfAbsent(c.getName(), k -> new ArrayList<>()).add(b);
                }
            }
        }
    }

    @Test
    void everyBundleOfTheBuildIsChecked() throws IOException {
        Set<String> expected;
        try (Stream<Path> dirs = Files.list(root.resolve("bundles"))) {
            expected = dirs.filter(d -> Files.exists(d.resolve("bnd.bnd")))
                    .map(d -> "org.savevm." + d.getFileName()).collect(Collectors.toCollection(TreeSet::new));
        }
        Set<String> found = bundles.stream().map(BundleJars.Bundle::symbolicName)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(expected, found, "arch-tests/pom.xml must depend on every bundle under bundles/");
        assertTrue(classes.size() > 100, "imported " + classes.size() + " classes");
    }

    @Test
    void streamDependsOnNothingOfOurs() {
        noClasses().that().resideInAPackage("org.savevm.stream..")
                .should().dependOnClassesThat(resideInAPackage("org.savevm..")
                        .and(not(resideInAPackage("org.savevm.stream.."))))
                .because("the stream framing is the bottom layer")
                .check(classes);
    }

    @Test
    void apiDependsOnlyOnTheStream() {
        noClasses().that().resideInAPackage("org.savevm.api..")
                .should().dependOnClassesThat(resideInAPackage("org.savevm..")
                        .and(not(resideInAnyPackage("org.savevm.api..", "org.savevm.stream.."))))
                .because("the api is what every bundle builds on; it knows no implementation")
                .check(classes);
    }

    @Test
    void noBundleReachesAnotherBundlesPrivatePackages() {
        classes().that().resideInAPackage("org.savevm..")
                .should(new ArchCondition<JavaClass>("reach other bundles only through their exported packages") {
                    @Override
                    public void check(JavaClass c, ConditionEvents events) {
                        List<BundleJars.Bundle> own = owners.getOrDefault(c.getName(), List.of());
                        for (Dependency d : c.getDirectDependenciesFromSelf()) {
                            JavaClass target = d.getTargetClass();
                            if (target.isArray()) {
                                target = target.getBaseComponentType();
                            }
                            List<BundleJars.Bundle> theirs = owners.getOrDefault(target.getName(), List.of());
                            if (theirs.isEmpty() || theirs.stream().anyMatch(own::contains)) {
                                continue;
                            }
                            String pkg = target.getPackageName();
                            if (theirs.stream().noneMatch(b -> b.exports().contains(pkg))) {
                                events.add(SimpleConditionEvent.violated(d, d.getDescription() + ": package " + pkg
                                        + " is not exported by " + theirs.get(0).symbolicName()));
                            }
                        }
                    }
                })
                .check(classes);
    }

    /** The packages of the core proper and of the framing bundle it stands on (savevm.c's concerns). */
    private static final String[] CORE_PACKAGES = {"org.savevm.core..", "org.savevm.framing.."};

    @Test
    void theCoreDependsOnNoRamOrBlockBundle() {
        noClasses().that().resideInAnyPackage(CORE_PACKAGES)
                .should().dependOnClassesThat().resideInAnyPackage("org.savevm.ram..", "org.savevm.block..")
                .because("the core frames sections; the formats inside belong to their handlers")
                .check(classes);
    }

    @Test
    void theCoreHasNoClassNamedForTheRamOrBlockFormat() {
        Set<String> named = new TreeSet<>();
        for (JavaClass c : classes) {
            if (resideInAnyPackage(CORE_PACKAGES).test(c) && !c.isNestedClass()
                    && c.getSimpleName().matches("(Ram|Block|Xbzrle).*")) {
                named.add(c.getName());
            }
        }
        Set<String> unexpected = new TreeSet<>(named);
        unexpected.removeAll(CORE_FORMAT_CLASSES_STILL_THERE);
        Set<String> stale = new TreeSet<>(CORE_FORMAT_CLASSES_STILL_THERE);
        stale.removeAll(named);
        if (!unexpected.isEmpty() || !stale.isEmpty()) {
            fail("the savevm core and the framing know no ram or block format; classes named for one: " + unexpected
                    + (stale.isEmpty() ? "" : "; gone, remove from CORE_FORMAT_CLASSES_STILL_THERE: " + stale));
        }
    }
}
