package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import org.junit.jupiter.api.Test;

/** Which changed keys a reload reports as needing a restart, and which it puts in force. */
class RestartOnlySettingsTest {

  private static MeridianSettings config(String extra) throws Exception {
    return SettingsLoader.parse("meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:9\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + extra
        + "}\n", "test.conf");
  }

  @Test
  void onlyProcessWideKeysNeedARestart() throws Exception {
    MeridianSettings base = config("");
    MeridianSettings reloadable = config("headers { via = \"x\" }\n limits { max-header-count = 5 }\n"
        + " timeouts { connect = 1s, upstream-idle = 5s }\n upstream { max-idle-per-backend = 3 }\n"
        + " listeners = [ { name = \"web\", address = \"127.0.0.1:0\" }, { name = \"two\", address = \"127.0.0.1:0\" } ]\n"
        + " tracing { enabled = false }\n paths { merge-slashes = false }\n server { drain-timeout = 5s }\n");
    MeridianSettings restart = config("admin { address = \"127.0.0.1:0\" }\n cache { max-size = 100MiB }\n"
        + " server { event-loop-threads = 3 }\n");

    assertThat(RestartOnlySettings.changed(base, reloadable)).isEmpty();
    assertThat(RestartOnlySettings.changed(base, restart))
        .containsExactly("meridian.admin", "meridian.server.event-loop-threads", "meridian.cache");
  }
}
