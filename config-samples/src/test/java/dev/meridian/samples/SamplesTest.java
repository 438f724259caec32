package dev.meridian.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.balancer.StickyCookie;
import dev.meridian.proxy.config.HostPort;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.config.StickyKeyFile;
import dev.meridian.proxy.routing.CachePolicy;
import dev.meridian.proxy.routing.StickyPolicy;
import dev.meridian.proxy.upstream.UpstreamProtocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Loads every sample exactly as {@code meridian check} does, and checks a few values of each. */
class SamplesTest {
  private static final Path SAMPLES = Path.of(System.getProperty("basedir", "."), "samples");

  static Stream<Path> samples() throws IOException {
    return Files.list(SAMPLES).filter(p -> p.toString().endsWith(".conf")).sorted();
  }

  @ParameterizedTest
  @MethodSource("samples")
  void everySampleIsValid(Path sample) throws Exception {
    MeridianSettings settings = SettingsLoader.load(sample);

    assertThat(settings.listeners()).isNotEmpty();
    assertThat(settings.routes()).isNotEmpty();
    // Loaded again unchanged, a reload's log line says nothing changed (every section compares by value).
    assertThat(dev.meridian.proxy.config.SettingsChanges.describe(settings, SettingsLoader.load(sample)))
        .isEqualTo("nothing");
  }

  @Test
  void thereAreThreeSamples() throws IOException {
    assertThat(samples().map(p -> p.getFileName().toString()))
        .containsExactly("benchmark-target.conf", "edge-proxy.conf", "sidecar-failover.conf");
  }

  @Test
  void edgeProxyRoutesByHostToRegionalBackends() throws Exception {
    MeridianSettings s = SettingsLoader.load(SAMPLES.resolve("edge-proxy.conf"));

    assertThat(s.routes()).extracting(MeridianSettings.RouteSettings::name).containsExactly("api", "orders-grpc", "static",
        "shop", "legacy", "app");
    assertThat(s.routes().get(0).host()).contains("*.api.example.com");
    assertThat(s.accessLog().enabled()).isTrue();
    assertThat(s.accessLog().file()).isEmpty(); // standard output
    assertThat(s.tracing().enabled()).isTrue();
    assertThat(s.backendGroups().get("orders-grpc").protocol()).isEqualTo(UpstreamProtocol.H2C);
    assertThat(s.backendGroups().get("app").protocol()).isEqualTo(UpstreamProtocol.HTTP1);
    assertThat(s.backendGroups().get("app").backends())
        .extracting(MeridianSettings.BackendSettings::region)
        .containsExactly("us-east", "us-east", "eu-west");
    assertThat(s.limits().maxHeaderBytes()).isEqualTo(16 * 1024);
  }

  @Test
  void edgeProxyCachesStaticFilesKeyedByTheirVersion() throws Exception {
    MeridianSettings s = SettingsLoader.load(SAMPLES.resolve("edge-proxy.conf"));

    CachePolicy cache = s.routes().get(2).cache().orElseThrow();
    assertThat(cache.ttl()).isEqualTo(Duration.ofMinutes(10));
    assertThat(cache.staleIfError()).isEqualTo(Duration.ofHours(1));
    assertThat(cache.keyQuery()).isEqualTo(CachePolicy.KeyQuery.LISTED);
    assertThat(cache.keyQueryNames()).containsExactly("v");
    assertThat(s.cache().maxSize()).isEqualTo(512L * 1024 * 1024);
    assertThat(s.cache().maxObjectSize()).isEqualTo(4 * 1024 * 1024);
  }

  @Test
  void edgeProxyPinsShopClientsWithACookieSignedByTheSharedKeys() throws Exception {
    MeridianSettings s = SettingsLoader.load(SAMPLES.resolve("edge-proxy.conf"));

    StickyPolicy shop = s.routes().get(3).sticky().orElseThrow();
    assertThat(shop.mode()).isEqualTo(StickyPolicy.Mode.COOKIE);
    assertThat(shop.cookie()).isEqualTo("shop_affinity");
    assertThat(shop.ttl()).isEqualTo(Duration.ofHours(2));
    assertThat(shop.secure()).isEqualTo(StickyPolicy.Secure.ALWAYS);
    assertThat(s.routes().get(4).sticky().orElseThrow().mode()).isEqualTo(StickyPolicy.Mode.APP_COOKIE);
    assertThat(s.sticky().keysFile()).contains(SAMPLES.toAbsolutePath().resolve("sticky-keys.json"));
    assertThat(StickyKeyFile.load(s.sticky().keysFile().orElseThrow()))
        .extracting(StickyCookie.Key::id).containsExactly("example-1");
  }

  @Test
  void sidecarListensOnLoopbackAndFailsFast() throws Exception {
    MeridianSettings s = SettingsLoader.load(SAMPLES.resolve("sidecar-failover.conf"));

    assertThat(s.listeners().get(0).address()).isEqualTo(new HostPort("127.0.0.1", 15001));
    assertThat(s.timeouts().connect()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.routes().get(0).rewriteHost()).isTrue();
  }

  @Test
  void benchmarkTargetUsesOneEventLoop() throws Exception {
    MeridianSettings s = SettingsLoader.load(SAMPLES.resolve("benchmark-target.conf"));

    assertThat(s.server().eventLoopThreads()).isEqualTo(1);
    assertThat(s.upstream().connectAttempts()).isEqualTo(1);
    assertThat(s.upstream().writeBufferHigh()).isEqualTo(256 * 1024);
  }
}
