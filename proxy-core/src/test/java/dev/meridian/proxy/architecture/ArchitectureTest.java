package dev.meridian.proxy.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The direction of dependencies, between modules (DESIGN.md: {@code balancer <- health <- proxy-core
 * -> tls}) and between proxy-core's packages (the wire format and the transport at the bottom, the
 * server above upstream, routing and header rewriting, the CLI on top), checked on the compiled
 * classes so a wrong import fails the build rather than a review.
 */
class ArchitectureTest {
  private static final String PROXY = "dev.meridian.proxy";
  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("dev.meridian");
  }

  @Test
  void everyModuleIsImported() {
    for (String module : new String[] {"dev.meridian.balancer", "dev.meridian.health", "dev.meridian.tls",
        PROXY + ".server", PROXY + ".http1"}) {
      assertThat(classes.stream().anyMatch(c -> c.getPackageName().startsWith(module)))
          .as("classes of %s on the class path", module).isTrue();
    }
  }

  @Test
  void balancerIsPlainJava() {
    noClasses().that().resideInAPackage("dev.meridian.balancer..")
        .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "dev.meridian.health..",
            "dev.meridian.tls..", PROXY + "..")
        .check(classes);
  }

  @Test
  void healthUsesOnlyTheBalancer() {
    noClasses().that().resideInAPackage("dev.meridian.health..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.meridian.tls..", PROXY + "..")
        .check(classes);
  }

  @Test
  void tlsStandsAlone() {
    noClasses().that().resideInAPackage("dev.meridian.tls..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.meridian.balancer..",
            "dev.meridian.health..", PROXY + "..")
        .check(classes);
  }

  @Test
  void proxyPackagesHaveNoCycles() {
    slices().matching(PROXY + ".(*)..").should().beFreeOfCycles().check(classes);
  }

  @Test
  void wireFormatAndTransportDependOnNoOtherProxyPackage() {
    for (String leaf : new String[] {"http1", "transport"}) {
      noClasses().that().resideInAPackage(PROXY + "." + leaf + "..")
          .should().dependOnClassesThat().resideInAnyPackage(others(leaf))
          .check(classes);
    }
  }

  @Test
  void upstreamKnowsNothingOfClientsRoutesOrConfigFiles() {
    noClasses().that().resideInAPackage(PROXY + ".upstream..")
        .should().dependOnClassesThat().resideInAnyPackage(PROXY + ".server..", PROXY + ".routing..",
            PROXY + ".config..", PROXY + ".admin..", PROXY + ".http..")
        .check(classes);
  }

  @Test
  void routingAndHeaderRewritingStayBelowTheServerAndOwnTheirSettings() {
    noClasses().that().resideInAnyPackage(PROXY + ".routing..", PROXY + ".http..")
        .should().dependOnClassesThat().resideInAnyPackage(PROXY + ".server..", PROXY + ".upstream..",
            PROXY + ".admin..", PROXY + ".config..")
        .check(classes);
  }

  @Test
  void serverKnowsNothingOfAdminOrTools() {
    noClasses().that().resideInAPackage(PROXY + ".server..")
        .should().dependOnClassesThat().resideInAnyPackage(PROXY + ".admin..", PROXY + ".cli..",
            PROXY + ".demo..", PROXY + ".drill..")
        .check(classes);
  }

  @Test
  void onlyTheCommandLineUsesTheCommandLine() {
    noClasses().that().resideOutsideOfPackage(PROXY + ".cli..")
        .should().dependOnClassesThat().resideInAPackage(PROXY + ".cli..")
        .check(classes);
  }

  /** Every proxy-core package but the given one (and the root package's classes). */
  private static String[] others(String own) {
    return classes.stream()
        .map(c -> c.getPackageName())
        .filter(p -> p.startsWith(PROXY + "."))
        .map(p -> p.substring(PROXY.length() + 1).split("\\.")[0])
        .distinct()
        .filter(p -> !p.equals(own))
        .map(p -> PROXY + "." + p + "..")
        .toArray(String[]::new);
  }
}
