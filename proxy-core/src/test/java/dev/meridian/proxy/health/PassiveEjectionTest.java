package dev.meridian.proxy.health;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import dev.meridian.balancer.NanoClock;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.ManualClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Passive outlier detection end to end: WireMock backends that fail in the ways real ones do (reset,
 * empty response, 503), a real proxy, and the admin API's {@code ejected} / {@code available}.
 */
class PassiveEjectionTest {
  private static final org.slf4j.Logger REPORT = org.slf4j.LoggerFactory.getLogger(PassiveEjectionTest.class);

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final List<WireMockServer> servers = new ArrayList<>();
  private MeridianInstance proxy;

  /** How a failing backend fails, and the ejection reason that should follow. */
  enum Failure {
    CONNECTION_RESET(Fault.CONNECTION_RESET_BY_PEER, 0, "3 consecutive gateway failures (last reset)"),
    EMPTY_RESPONSE(Fault.EMPTY_RESPONSE, 0, "3 consecutive gateway failures (last reset)"),
    STATUS_503(null, 503, "3 consecutive 5xx responses (last 503)");

    final Fault fault;
    final int status;
    final String reason;

    Failure(Fault fault, int status, String reason) {
      this.fault = fault;
      this.status = status;
      this.reason = reason;
    }
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    servers.forEach(WireMockServer::stop);
  }

  private WireMockServer wiremock() {
    WireMockServer server = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
    server.start();
    servers.add(server);
    server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody("ok")));
    return server;
  }

  private static void failWith(WireMockServer server, Failure failure) {
    server.stubFor(any(urlPathEqualTo("/data")).willReturn(failure.fault != null
        ? aResponse().withFault(failure.fault) : aResponse().withStatus(failure.status).withBody("down")));
  }

  private void startProxy(String health, WireMockServer... backends) throws Exception {
    startProxy(health, NanoClock.SYSTEM, backends);
  }

  private void startProxy(String health, NanoClock clock, WireMockServer... backends) throws Exception {
    StringBuilder list = new StringBuilder();
    for (int i = 0; i < backends.length; i++) {
      list.append("{ id = \"w").append(i + 1).append("\", address = \"127.0.0.1:").append(backends[i].port())
          .append("\" },\n");
    }
    String hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  backend-groups { app { backends = [\n" + list + "]\n  health { " + health + " } } }\n"
        + "  routes = [ { backend-group = \"app\" } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "passive-ejection-test"), clock).start();
  }

  private HttpResponse<String> getData() throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + proxy.listenerAddresses().get(0).getPort() + "/data")).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Sends GETs, one per poll, until the admin API shows the backend ejected. */
  private void driveUntilEjected(String id) {
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> {
      getData();
      return AdminBackends.of(proxy).ejected(id);
    });
  }

  @ParameterizedTest
  @EnumSource(Failure.class)
  void consecutiveFailuresEjectTheBackend(Failure failure) throws Exception {
    WireMockServer w1 = wiremock();
    WireMockServer w2 = wiremock();
    failWith(w1, failure);
    startProxy("passive { consecutive-5xx = 3, consecutive-gateway-failures = 3, base-ejection-time = 30s }", w1, w2);

    driveUntilEjected("w1");
    AdminBackends admin = AdminBackends.of(proxy);
    assertThat(admin.available("w1")).isFalse();
    assertThat(admin.outReasons("w1")).containsEntry("outlier", failure.reason + ", ejected for 30s");
    assertThat(admin.available("w2")).isTrue();
    assertThat(admin.ejected("w2")).isFalse();
    // Exactly the threshold reached w1: the request that made the third failure ejected it at once.
    assertThat(w1.getAllServeEvents()).hasSize(3);

    for (int i = 0; i < 10; i++) {
      HttpResponse<String> r = getData();
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("X-Meridian-Backend")).hasValue("w2");
    }
    assertThat(w1.getAllServeEvents()).hasSize(3);
  }

  @Test
  void maxEjectionPercentLeavesMostOfTheGroupIn() throws Exception {
    WireMockServer w1 = wiremock();
    WireMockServer w2 = wiremock();
    WireMockServer w3 = wiremock();
    for (WireMockServer w : List.of(w1, w2, w3)) {
      failWith(w, Failure.STATUS_503);
    }
    startProxy("passive { consecutive-5xx = 2, base-ejection-time = 30s, max-ejection-percent = 50 }", w1, w2, w3);

    for (int i = 0; i < 30; i++) {
      assertThat(getData().statusCode()).isEqualTo(503);
    }
    AdminBackends admin = AdminBackends.of(proxy);
    List<String> ejected = new ArrayList<>();
    for (String id : List.of("w1", "w2", "w3")) {
      if (admin.ejected(id)) {
        ejected.add(id);
        assertThat(admin.available(id)).isFalse();
      } else {
        assertThat(admin.available(id)).as("%s not ejected is available", id).isTrue();
      }
    }
    // 50% of 3 is 1.5: one backend may be out, a second would make 67%.
    assertThat(ejected).as("ejected backends in %s", admin).hasSize(1);
  }

  @Test
  void aPassingActiveCheckReturnsAnEjectedBackendEarly() throws Exception {
    WireMockServer w1 = wiremock();
    WireMockServer w2 = wiremock();
    failWith(w1, Failure.STATUS_503);
    w1.stubFor(get(urlPathEqualTo("/healthz")).willReturn(aResponse().withStatus(500)));
    // fall is out of reach, so only the outlier detector takes w1 out; ejection would last a minute.
    startProxy("active { path = \"/healthz\", interval = 100ms, timeout = 1s, rise = 1, fall = 1000 }\n"
        + "passive { consecutive-5xx = 3, base-ejection-time = 60s }", w1, w2);

    driveUntilEjected("w1");
    // Failing checks do not end it.
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
        .until(() -> AdminBackends.of(proxy).ejected("w1"));

    long passingFrom = System.nanoTime();
    w1.stubFor(get(urlPathEqualTo("/healthz")).willReturn(aResponse().withStatus(200)));
    await().atMost(Duration.ofSeconds(5)).until(() -> {
      AdminBackends admin = AdminBackends.of(proxy);
      return !admin.ejected("w1") && admin.available("w1");
    });
    REPORT.info(String.format("ejected backend returned %d ms after its health path began to pass",
        (System.nanoTime() - passingFrom) / 1_000_000));
  }

  @Test
  void ejectionTimeGrowsOnRepeat() throws Exception {
    WireMockServer w1 = wiremock();
    WireMockServer w2 = wiremock();
    failWith(w1, Failure.STATUS_503);
    ManualClock clock = new ManualClock();
    startProxy("passive { consecutive-5xx = 3, base-ejection-time = 2s, max-ejection-time = 300s }", clock,
        w1, w2);

    // Base x 1, then base x 2, to the nanosecond of the proxy's clock: still out just before the end
    // (across more than one of the detector's once-a-second ticks), back at the first tick after it.
    driveUntilEjected("w1");
    expectEjectionToLast(clock, Duration.ofSeconds(2));
    driveUntilEjected("w1");
    expectEjectionToLast(clock, Duration.ofSeconds(4));
  }

  private void expectEjectionToLast(ManualClock clock, Duration ejection) {
    clock.advance(ejection.minusMillis(1));
    await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3))
        .until(() -> AdminBackends.of(proxy).ejected("w1"));
    clock.advance(Duration.ofMillis(1));
    await().atMost(Duration.ofSeconds(3)).until(() -> !AdminBackends.of(proxy).ejected("w1"));
  }
}
