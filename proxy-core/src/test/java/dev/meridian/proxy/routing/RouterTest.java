package dev.meridian.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meridian.balancer.BackendGroup;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouterTest {
  private static Route route(String name, String host, String prefix, Set<String> methods) {
    return new Route(name, host == null ? null : HostPattern.parse(host), prefix, methods,
        new BackendGroup("g", List.of()), context -> null, false, Set.of("websocket"),
        Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ZERO, null, null, null, null, null, null);
  }

  private final Router router = new Router(List.of(
      route("api", "*.example.com", "/api/", Set.of("GET", "POST")),
      route("exact", "shop.example.org", "/", Set.of()),
      route("default", null, "/", Set.of())));

  @ParameterizedTest
  @CsvSource({
    "a.example.com, /api/x, GET, api",
    "A.Example.COM:8080, /api/x, POST, api",
    "a.example.com, /api/x, DELETE, default",
    "example.com, /api/x, GET, default",
    "a.example.com, /apix, GET, default",
    "shop.example.org., /cart, GET, exact",
    "other.org, /, GET, default",
  })
  void firstMatchingRouteWins(String host, String path, String method, String expected) {
    assertThat(router.match(HostPattern.normalize(host), path, method).name()).isEqualTo(expected);
  }

  @Test
  void noRouteMatchesWhenNoneFits() {
    Router narrow = new Router(List.of(route("api", "api.example.com", "/", Set.of())));
    assertThat(narrow.match("other.example.com", "/", "GET")).isNull();
    assertThat(narrow.match(null, "/", "GET")).isNull();
  }

  @Test
  void aRouteListingGetTakesHeadToo() {
    Router reads = new Router(List.of(route("reads", null, "/", Set.of("GET"))));
    assertThat(reads.match("a", "/x", "HEAD")).isNotNull();
    assertThat(reads.match("a", "/x", "POST")).isNull();
  }

  @Test
  void theMethodsOfTheRoutesForAHostAndPathAreListedForAllow() {
    Router methodsOnly = new Router(List.of(
        route("reads", "a.example.com", "/", Set.of("GET")),
        route("writes", "a.example.com", "/api/", Set.of("POST", "PUT")),
        route("other", "b.example.com", "/", Set.of("DELETE"))));
    assertThat(methodsOnly.allowedMethods("a.example.com", "/api/x")).isEqualTo("GET, HEAD, POST, PUT");
    assertThat(methodsOnly.allowedMethods("a.example.com", "/x")).isEqualTo("GET, HEAD");
    assertThat(methodsOnly.allowedMethods("c.example.com", "/x")).as("no route for the target").isNull();
    assertThat(router.allowedMethods("a.example.com", "/api/x")).as("a route takes any method").isNull();
  }

  @Test
  void hostPatternsRefuseMisplacedWildcards() {
    assertThatThrownBy(() -> HostPattern.parse("a.*.com")).hasMessageContaining("expected");
    assertThatThrownBy(() -> HostPattern.parse("*")).hasMessageContaining("expected");
  }

  @Test
  void ipv6HostsAreNormalized() {
    assertThat(HostPattern.normalize("[::1]:8080")).isEqualTo("::1");
    assertThat(HostPattern.parse("::1").matches("[::1]:80")).isTrue();
  }

  @Test
  void upgradesAreMatchedByProtocolName() {
    Route r = route("ws", null, "/", Set.of());
    assertThat(r.allowsUpgrade("WebSocket")).isTrue();
    assertThat(r.allowsUpgrade("h2c")).isFalse();
    assertThat(r.allowsUpgrade(null)).isFalse();
  }
}
