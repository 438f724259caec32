package dev.meridian.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.config.HostPort;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
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
        "app");
    assertThat(s.routes().get(0).host()).contains("*.api.example.com");
    assertThat(s.backendGroups().get("orders-grpc").protocol()).isEqualTo(UpstreamProtocol.H2C);
    assertThat(s.backendGroups().get("app").protocol()).isEqualTo(UpstreamProtocol.HTTP1);
    assertThat(s.backendGroups().get("app").backends())
        .extracting(MeridianSettings.BackendSettings::region)
        .containsExactly("us-east", "us-east", "eu-west");
    assertThat(s.limits().maxHeaderBytes()).isEqualTo(16 * 1024);
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
