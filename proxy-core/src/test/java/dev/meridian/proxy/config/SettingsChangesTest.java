package dev.meridian.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What a reload's log line says changed. */
class SettingsChangesTest {
  private static final String BASE = """
      meridian {
        listeners = [ { name = "web", address = "127.0.0.1:8080" } ]
        cookie-secret = "a-secret-of-thirty-two-characters!!"
        backend-groups {
          app { backends = [ { address = "127.0.0.1:9001" } ] }
          api { backends = [ { address = "127.0.0.1:9002" } ] }
        }
        routes = [ { name = "all", backend-group = "app" }, { name = "old", path-prefix = "/old", backend-group = "app" } ]
        geo { networks = [ { cidr = "10.0.0.0/8", region = default } ] }
        cache { max-size = 64MiB }
      }
      """;

  private static MeridianSettings parse(String text) throws InvalidConfigException {
    return SettingsLoader.parse(text, "meridian.conf");
  }

  @Test
  void theSameFileChangesNothing() throws Exception {
    assertThat(SettingsChanges.describe(parse(BASE), parse(BASE))).isEqualTo("nothing");
  }

  @Test
  void namesWhatWasAddedRemovedAndChangedAndTheOtherSectionsByKey() throws Exception {
    String next = BASE
        .replace("{ name = \"old\", path-prefix = \"/old\", backend-group = \"app\" }",
            "{ name = \"new\", path-prefix = \"/v2\", backend-group = \"api\" }")
        .replace("127.0.0.1:9002", "127.0.0.1:9003")
        .replace("cookie-secret = \"a-secret-of-thirty-two-characters!!\"",
            "cookie-secret = \"b-secret-of-thirty-two-characters!!\"\n  timeouts { client-idle = 30s }");
    String described = SettingsChanges.describe(parse(BASE), parse(next));
    assertThat(described).isEqualTo("routes +[new] -[old]; backend-groups ~[api]; timeouts, cookie-secret")
        .doesNotContain("b-secret");
  }
}
