package dev.meridian.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reloading the configuration file: new routes without dropping connections; a broken file is refused. */
class ConfigReloadTest {

  private static String config(int backendPort) {
    return "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { enabled = false }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + backendPort + "\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n";
  }

  private static String get(RawHttpClient client) throws Exception {
    client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
    return client.readResponse().bodyText();
  }

  @Test
  void newRoutesTakeEffectOnOpenConnectionsAndABrokenFileIsRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("meridian.conf");
    try (TestBackend first = TestBackend.start(TestBackend.ok("first"));
        TestBackend second = TestBackend.start(TestBackend.ok("second"))) {
      Files.writeString(file, config(first.port()));
      MeridianInstance instance = new MeridianInstance(SettingsLoader.load(file)).start();
      try (ConfigReloader reloader = new ConfigReloader(file, instance);
          RawHttpClient client = RawHttpClient.connect(instance.listenerAddresses().get(0))) {
        assertThat(get(client)).isEqualTo("first");
        var registry = instance.proxy().metrics().registry();
        double started = registry.get("meridian.config.last.reload.success.timestamp.seconds").gauge().value();
        assertThat(registry.get("meridian.config.last.reload.successful").gauge().value()).isEqualTo(1);

        Files.writeString(file, config(second.port()));
        assertThat(reloader.checkNow()).isTrue();
        assertThat(get(client)).as("the same client connection, after the reload").isEqualTo("second");
        assertThat(registry.get("meridian.config.reloads").tag("result", "applied").counter().count()).isEqualTo(1);
        assertThat(registry.get("meridian.config.last.reload.success.timestamp.seconds").gauge().value())
            .isGreaterThanOrEqualTo(started);

        Files.writeString(file, config(second.port()).replace("path-prefix", "path-prefx"));
        assertThat(reloader.checkNow()).isFalse();
        assertThat(get(client)).as("the configuration in force keeps serving").isEqualTo("second");
        assertThat(registry.get("meridian.config.reloads").tag("result", "refused").counter().count())
            .as("a refused reload is there to alert on").isEqualTo(1);
        assertThat(registry.get("meridian.config.last.reload.successful").gauge().value()).isZero();
      } finally {
        instance.stop(Duration.ZERO);
      }
    }
  }
}
