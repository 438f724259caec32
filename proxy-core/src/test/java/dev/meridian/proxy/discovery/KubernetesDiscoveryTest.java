package dev.meridian.proxy.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.balancer.Backend;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.core.instrument.Counter;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kubernetes discovery against fabric8's mock API server in CRUD mode (on 127.0.0.1): EndpointSlices
 * created, changed and deleted through the API are watched, and their endpoints (real backends on
 * 127.0.0.1, one slice each since each listens on its own port) take traffic.
 */
class KubernetesDiscoveryTest {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final TestBackend one = TestBackend.start(TestBackend.ok("one"));
  private final TestBackend two = TestBackend.start(TestBackend.ok("two"));
  private final TestBackend three = TestBackend.start(TestBackend.ok("three"));
  private KubernetesMockServer server;
  private KubernetesClient api;
  private MeridianInstance meridian;
  @TempDir Path dir;

  @BeforeEach
  void startApiServer() throws Exception {
    startApiServer(0);
  }

  private void startApiServer(int port) throws Exception {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getByName("127.0.0.1"), port);
    api = server.createClient();
  }

  /**
   * Stops the API server before Meridian: when the client closes a watch, the mock server's
   * {@code WatchEventsListener.onClosed} can wait on its event loop for a close it queued to run on
   * that same loop, and its shutdown then times out ("Unable to close MockWebServer"). Closed from the
   * server's side, a watch ends without that wait; Meridian's close afterwards stops its reconnects.
   */
  @AfterEach
  void stopAll() {
    api.close();
    server.destroy();
    if (meridian != null) {
      meridian.close();
    }
    one.close();
    two.close();
    three.close();
  }

  /** A slice of Service {@code service} with one endpoint, 127.0.0.1 on port {@code port} named http. */
  private static EndpointSlice slice(String name, String service, int port, String zone, Boolean ready,
      Boolean terminating) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withName(name).withNamespace("shop")
          .addToLabels(KubernetesBackendSource.SERVICE_LABEL, service).endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(port).withProtocol("TCP").endPort()
        .addNewEndpoint().withAddresses("127.0.0.1").withZone(zone)
          .withNewConditions().withReady(ready).withServing(ready).withTerminating(terminating).endConditions()
          .withNewHints().addNewForZone("eu-west-1a").endHints()
        .endEndpoint()
        .build();
  }

  private void put(EndpointSlice slice) {
    api.resource(slice).inNamespace("shop").createOr(op -> op.update());
  }

  private void start(String extra) throws Exception {
    start("master-url = \"http://127.0.0.1:" + server.getPort() + "\"", "http", extra);
  }

  /** Starts Meridian with {@code client} keys in discovery.kubernetes and the entry's {@code port}. */
  private void start(String client, String port, String extra) throws Exception {
    meridian = new MeridianInstance(settings(client, port, extra)).start();
  }

  private dev.meridian.proxy.config.MeridianSettings settings(String client, String port, String extra)
      throws Exception {
    Path conf = dir.resolve("meridian.conf");
    Files.writeString(conf, """
        meridian {
          region = "eu-west"
          listeners = [ { name = "web", address = "127.0.0.1:0" } ]
          admin { enabled = false }
          server { event-loop-threads = 1 }
          discovery.kubernetes {
            %s
            watch-check = 100ms
            zones { "eu-west-1a" = "eu-west", "eu-west-1b" = "eu-west", "us-east-1a" = "us-east" }
          }
          backend-groups { app { backends = [ { kubernetes { namespace = "shop", service = "app", port = "%s" } } ] } }
          routes = [ { path-prefix = "/", backend-group = "app" } ]
          %s
        }
        """.formatted(client, port, extra));
    return SettingsLoader.load(conf);
  }

  private String get() throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + meridian.listenerAddresses().get(0).getPort() + "/");
    return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private List<Backend> backends() {
    return meridian.proxy().groups().get("app").backends();
  }

  private List<String> backendIds() {
    return backends().stream().map(Backend::id).toList();
  }

  private static String id(TestBackend b) {
    return "127.0.0.1:" + b.port();
  }

  private double failures() {
    Counter c = meridian.proxy().metrics().registry().find("meridian.discovery.failures").tag("group", "app").counter();
    return c == null ? 0 : c.count();
  }

  private Set<String> answersOf(int requests) throws Exception {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < requests; i++) {
      seen.add(get());
    }
    return seen;
  }

  @Test
  void readyEndpointsTakeTrafficAndChangesAreWatched() throws Exception {
    put(slice("app-1", "app", one.port(), "eu-west-1a", true, null));
    put(slice("app-2", "app", two.port(), "eu-west-1b", null, null));
    put(slice("app-3", "app", three.port(), "eu-west-1a", false, null));
    put(slice("other-1", "other", three.port(), "eu-west-1a", true, null));
    start("");

    assertThat(backendIds()).as("ready (true or absent) endpoints of this Service only")
        .containsExactlyInAnyOrder(id(one), id(two));
    assertThat(answersOf(6)).containsExactlyInAnyOrder("one", "two");
    assertThat(backends()).extracting(Backend::region).containsOnly("eu-west");
    assertThat(backends()).extracting(Backend::zone).containsExactlyInAnyOrder("eu-west-1a", "eu-west-1b");

    put(slice("app-3", "app", three.port(), "eu-west-1a", true, null));
    await().atMost(Duration.ofSeconds(10)).until(() -> backendIds().contains(id(three)));
    assertThat(answersOf(9)).contains("three");

    put(slice("app-1", "app", one.port(), "eu-west-1a", false, null));
    await().atMost(Duration.ofSeconds(10)).until(() -> !backendIds().contains(id(one)));

    put(slice("app-2", "app", two.port(), "eu-west-1b", true, true));
    await("a terminating endpoint leaves").atMost(Duration.ofSeconds(10))
        .until(() -> backendIds().equals(List.of(id(three))));

    api.resources(EndpointSlice.class).inNamespace("shop").withName("app-3").delete();
    put(slice("app-4", "app", one.port(), "us-east-1a", true, null));
    await().atMost(Duration.ofSeconds(10)).until(() -> backendIds().equals(List.of(id(one))));
    assertThat(backends().get(0).region()).as("the zone's region").isEqualTo("us-east");
    assertThat(answersOf(3)).as("the only backend, in another region").containsExactly("one");
  }

  @Test
  void aLostApiServerKeepsTheLastListAndCountsAFailure() throws Exception {
    put(slice("app-1", "app", one.port(), "eu-west-1a", true, null));
    put(slice("app-2", "app", two.port(), "eu-west-1a", true, null));
    start("");
    assertThat(backendIds()).containsExactlyInAnyOrder(id(one), id(two));
    assertThat(failures()).isZero();

    server.shutdown();
    await().atMost(Duration.ofSeconds(10)).until(() -> failures() >= 1);
    assertThat(backendIds()).as("the last good list").containsExactlyInAnyOrder(id(one), id(two));
    assertThat(answersOf(6)).containsExactlyInAnyOrder("one", "two");
  }

  @Test
  void aKubeconfigNamesTheApiServerAndTheNamespace() throws Exception {
    put(slice("app-1", "app", one.port(), "eu-west-1a", true, null));
    Files.writeString(dir.resolve("kubeconfig.yaml"), """
        apiVersion: v1
        kind: Config
        clusters:
          - name: mock
            cluster: { server: "http://127.0.0.1:%d" }
        contexts:
          - name: mock
            context: { cluster: mock, user: tester, namespace: shop }
        users:
          - name: tester
            user: { token: "t0ken" }
        current-context: mock
        """.formatted(server.getPort()));
    start("kubeconfig = \"kubeconfig.yaml\"", "http", "");
    assertThat(backendIds()).containsExactly(id(one));
    assertThat(get()).isEqualTo("one");
  }

  @Test
  void aReloadKeepsAnUnchangedWatchAndRestartsAChangedOne() throws Exception {
    put(slice("app-1", "app", one.port(), "eu-west-1a", true, null));
    String client = "master-url = \"http://127.0.0.1:" + server.getPort() + "\"";
    start(client, "http", "");
    assertThat(backendIds()).containsExactly(id(one));

    meridian.proxy().reload(settings(client, "http", ""));
    assertThat(backendIds()).as("an unchanged entry keeps its list through a reload").containsExactly(id(one));

    meridian.proxy().reload(settings(client, Integer.toString(one.port()), ""));
    await().atMost(Duration.ofSeconds(10)).until(() -> backendIds().equals(List.of(id(one))));
    put(slice("app-2", "app", two.port(), "eu-west-1a", true, null));
    put(slice("app-1", "app", one.port(), "eu-west-1a", false, null));
    await("the port by number matches no port of the second slice").atMost(Duration.ofSeconds(10))
        .until(() -> backendIds().isEmpty());
  }

  @Test
  void anApiServerThatAnswersLateIsAFailureUntilItsFirstList() throws Exception {
    int port = server.getPort();
    api.close();
    server.destroy();
    start("");
    await().atMost(Duration.ofSeconds(10)).until(() -> failures() >= 1);
    assertThat(backendIds()).isEmpty();

    startApiServer(port);
    put(slice("app-1", "app", one.port(), "eu-west-1a", true, null));
    await().atMost(Duration.ofSeconds(30)).until(() -> backendIds().equals(List.of(id(one))));
    assertThat(get()).isEqualTo("one");
  }
}
