package dev.meridian.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.meridian.proxy.upstream.UpstreamProxyProtocol;
import org.junit.jupiter.api.Test;

/** {@code backend-groups.NAME.proxy-protocol} as the configuration check reads it. */
class ProxyProtocolOutConfigTest {
  private static String config(String group) {
    return "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  routes = [ { backend-group = app } ]\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:9001\" } ]\n"
        + group + "\n"
        + "  } }\n"
        + "}\n";
  }

  private static UpstreamProxyProtocol read(String group) throws Exception {
    return SettingsLoader.parse(config(group), "test.conf").backendGroups().get("app").proxyProtocol();
  }

  @Test
  void offByDefaultAndEachVersionIsRead() throws Exception {
    assertThat(read("")).isEqualTo(UpstreamProxyProtocol.NONE);
    assertThat(read("proxy-protocol = none")).isEqualTo(UpstreamProxyProtocol.NONE);
    assertThat(read("proxy-protocol = v1")).isEqualTo(UpstreamProxyProtocol.V1);
    assertThat(read("proxy-protocol = \"V2\"")).isEqualTo(UpstreamProxyProtocol.V2);
    assertThat(read("proxy-protocol = v2, protocol = http1")).isEqualTo(UpstreamProxyProtocol.V2);
  }

  @Test
  void anUnknownVersionAndHttp2AreRefusedWithFileLineAndKey() {
    InvalidConfigException unknown = catchThrowableOfType(() -> read("proxy-protocol = v3"),
        InvalidConfigException.class);
    assertThat(unknown.problems()).singleElement().satisfies(p -> {
      assertThat(p.file()).isEqualTo("test.conf");
      assertThat(p.line()).isEqualTo(5);
      assertThat(p.key()).isEqualTo("meridian.backend-groups.app.proxy-protocol");
      assertThat(p.message()).contains("'v3'", "expected: none, v1 or v2");
    });

    InvalidConfigException h2c = catchThrowableOfType(() -> read("protocol = h2c\nproxy-protocol = v2"),
        InvalidConfigException.class);
    assertThat(h2c.problems()).singleElement().satisfies(p -> {
      assertThat(p.line()).isEqualTo(6);
      assertThat(p.key()).isEqualTo("meridian.backend-groups.app.proxy-protocol");
      assertThat(p.message()).contains("h2c", "one client per connection", "expected: protocol = http1");
    });
  }
}
