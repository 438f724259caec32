package dev.meridian.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload puts listeners in force: an added one accepts, a removed one stops accepting while its
 * requests in flight finish (HTTP/1.1 with Connection: close, HTTP/2 after GOAWAY), one that cannot bind
 * refuses the reload and nothing changes, and new certificates serve new connections only.
 */
class ListenerReloadTest {
  @TempDir
  Path dir;
  private final CompletableFuture<TestBackend.Reply> slowReply = new CompletableFuture<>();
  private final TestBackend backend = TestBackend.start(request -> request.uri().equals("/slow")
      ? TestBackend.Reply.when(slowReply) : TestBackend.Reply.ok("ok " + request.uri()));
  private MeridianInstance instance;
  private ConfigReloader reloader;

  @AfterEach
  void stop() {
    if (reloader != null) {
      reloader.close();
    }
    if (instance != null) {
      instance.stop(Duration.ZERO);
    }
    backend.close();
  }

  private String config(String listeners) {
    return "meridian {\n"
        + "  listeners = [ " + listeners + " ]\n"
        + "  admin { enabled = false }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + backend.port() + "\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n";
  }

  private static String listener(String name, int port) {
    return "{ name = \"" + name + "\", address = \"127.0.0.1:" + port + "\" }";
  }

  private void start(String config) throws Exception {
    Path file = dir.resolve("meridian.conf");
    Files.writeString(file, config);
    instance = new MeridianInstance(SettingsLoader.load(file)).start();
    reloader = new ConfigReloader(file, instance);
  }

  private ConfigReloader.Outcome reload(String config) throws IOException {
    Files.writeString(dir.resolve("meridian.conf"), config);
    return reloader.reload();
  }

  private InetSocketAddress address(String listener) {
    return instance.listenersByName().get(listener);
  }

  private static RawHttpClient.RawResponse get(InetSocketAddress address, String path) throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(address)) {
      return client.send("GET " + path + " HTTP/1.1\r\nHost: app.test\r\n\r\n").readResponse();
    }
  }

  @Test
  void aListenerAddedAtReloadAccepts() throws Exception {
    start(config(listener("web", 0)));
    InetSocketAddress web = address("web");

    assertThat(reload(config(listener("web", 0) + ", " + listener("second", 0))).applied()).isTrue();

    assertThat(instance.listenersByName()).containsOnlyKeys("web", "second").containsEntry("web", web);
    assertThat(get(address("second"), "/new").bodyText()).isEqualTo("ok /new");
    assertThat(get(web, "/old").bodyText()).isEqualTo("ok /old");
  }

  @Test
  void aListenerMovedToAnotherAddressIsBoundThereAndItsMetersFollow() throws Exception {
    start(config(listener("web", 0)));
    InetSocketAddress before = address("web");
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }

    assertThat(reload(config(listener("web", port))).applied()).isTrue();

    assertThat(address("web").getPort()).isEqualTo(port);
    assertThatThrownBy(() -> RawHttpClient.connect(before).close()).isInstanceOf(ConnectException.class);
    try (RawHttpClient client = RawHttpClient.connect(address("web"))) {
      assertThat(client.send("GET /moved HTTP/1.1\r\nHost: app.test\r\n\r\n").readResponse().bodyText())
          .isEqualTo("ok /moved");
      var open = instance.proxy().metrics().registry().find("meridian.listener.connections").tag("listener", "web");
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(open.gauge().value())
          .as("the gauge reads the listener bound now").isEqualTo(1.0));
    }
  }

  @Test
  void aListenerRemovedStopsAcceptingWhileItsSlowRequestFinishes() throws Exception {
    start(config(listener("web", 0) + ", " + listener("second", 0)));
    InetSocketAddress second = address("second");
    try (RawHttpClient client = RawHttpClient.connect(second)) {
      client.send("GET /slow HTTP/1.1\r\nHost: app.test\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests().size() == 1);

      assertThat(reload(config(listener("web", 0))).applied()).isTrue();

      assertThat(instance.listenersByName()).containsOnlyKeys("web");
      assertThatThrownBy(() -> RawHttpClient.connect(second).close()).isInstanceOf(ConnectException.class);
      slowReply.complete(TestBackend.Reply.ok("slow done"));
      RawHttpClient.RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("slow done");
      assertThat(response.header("connection")).isEqualToIgnoringCase("close");
      assertThat(client.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
    }
    assertThat(get(address("web"), "/still").bodyText()).isEqualTo("ok /still");
  }

  @Test
  void aRemovedListenersRequestStillUnansweredAfterTheDrainTimeoutIsAnswered503AndClosed() throws Exception {
    String drainFast = "  server { drain-timeout = 300ms }\n  admin {";
    start(config(listener("web", 0) + ", " + listener("second", 0)).replace("  admin {", drainFast));
    try (RawHttpClient client = RawHttpClient.connect(address("second"))) {
      client.send("GET /slow HTTP/1.1\r\nHost: app.test\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests().size() == 1);

      assertThat(reload(config(listener("web", 0)).replace("  admin {", drainFast)).applied()).isTrue();

      RawHttpClient.RawResponse answer = client.readResponse();
      assertThat(answer.status()).as("answered, not reset, once the drain timeout passed").isEqualTo(503);
      assertThat(answer.header("connection")).isEqualToIgnoringCase("close");
      assertThat(client.isClosedByPeer(Duration.ofSeconds(5))).as("closed once the drain timeout passed").isTrue();
    }
  }

  @Test
  void anHttp2ConnectionOnARemovedListenerGetsGoawayAndItsStreamFinishes() throws Exception {
    start(config(listener("web", 0) + ", " + listener("second", 0)));
    try (RawHttp2Client client = new RawHttp2Client(address("second").getPort()).lenient()) {
      client.get(1, "/slow");
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests().size() == 1);

      assertThat(reload(config(listener("web", 0))).applied()).isTrue();

      client.readUntil(c -> c.goAwayError() != null);
      assertThat(client.goAwayError()).isZero();
      assertThat(client.ended(1)).isFalse();
      slowReply.complete(TestBackend.Reply.ok("slow done"));
      client.readUntil(c -> c.ended(1));
      assertThat(client.status(1)).isEqualTo("200");
      assertThat(client.dataBytes(1)).isEqualTo("slow done".length());
      client.readUntil(RawHttp2Client::closed);
      assertThat(client.closed()).isTrue();
    }
  }

  @Test
  void aListenerThatCannotBindRefusesTheReloadAndChangesNothing() throws Exception {
    start(config(listener("web", 0)));
    InetSocketAddress web = address("web");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String next = config(listener("web", 0) + ", " + listener("third", 0) + ", "
          + listener("blocked", taken.getLocalPort())).replace("admin {", "headers { via = \"changed\" }\n  admin {");

      ConfigReloader.Outcome outcome = reload(next);

      assertThat(outcome.applied()).isFalse();
      assertThat(outcome.problems()).singleElement().asString()
          .contains("listener 'blocked'", "cannot listen on", String.valueOf(taken.getLocalPort()));
      assertThat(instance.listenersByName()).as("'third', bound first, was closed again")
          .containsOnlyKeys("web").containsEntry("web", web);
      assertThat(get(web, "/").header("via")).isEqualTo("1.1 meridian");
      assertThat(instance.proxy().settings().listeners()).hasSize(1);
    }
    assertThat(reloader.reload().applied()).as("the port is free again").isTrue();
    assertThat(instance.listenersByName()).containsOnlyKeys("web", "third", "blocked");
    assertThat(get(web, "/").header("via")).isEqualTo("1.1 changed");
  }

  @Test
  void aRaisedConnectionLimitLetsTheWaitingConnectionIn() throws Exception {
    start(config("{ name = \"web\", address = \"127.0.0.1:0\", max-connections = 1 }"));
    try (RawHttpClient first = RawHttpClient.connect(address("web"));
        RawHttpClient second = RawHttpClient.connect(address("web"))) {
      assertThat(first.send("GET /first HTTP/1.1\r\nHost: app.test\r\n\r\n").readResponse().status()).isEqualTo(200);
      second.send("GET /second HTTP/1.1\r\nHost: app.test\r\n\r\n");
      second.socket().setSoTimeout(500);
      assertThatThrownBy(second::readResponse).as("the listener holds one connection")
          .isInstanceOf(java.net.SocketTimeoutException.class);

      assertThat(reload(config("{ name = \"web\", address = \"127.0.0.1:0\", max-connections = 2 }")).applied())
          .isTrue();

      second.socket().setSoTimeout(10_000);
      assertThat(second.readResponse().bodyText()).as("let in without the first closing").isEqualTo("ok /second");
    }
  }

  @Test
  void aListenerThatTakesThePROXYProtocolAfterAReloadRefusesNewConnectionsWithoutIt() throws Exception {
    start(config(listener("web", 0)));
    try (RawHttpClient open = RawHttpClient.connect(address("web"))) {
      assertThat(open.send("GET /a HTTP/1.1\r\nHost: app.test\r\n\r\n").readResponse().status()).isEqualTo(200);

      assertThat(reload(config("{ name = \"web\", address = \"127.0.0.1:0\", proxy-protocol-from = [ \"10.0.0.0/8\" ] }"))
          .applied()).isTrue();

      try (RawHttpClient fresh = RawHttpClient.connect(address("web"))) {
        assertThat(fresh.isClosedByPeer(Duration.ofSeconds(5))).as("127.0.0.1 is not a load balancer of the list")
            .isTrue();
      }
      assertThat(open.send("GET /b HTTP/1.1\r\nHost: app.test\r\n\r\n").readResponse().bodyText())
          .as("the connection opened before continues").isEqualTo("ok /b");
    }
  }

  @Test
  void newCertificatesServeNewConnectionsWhileOpenOnesContinue() throws Exception {
    CertificatePair a = SelfSignedCertificates.generate(Files.createDirectory(dir.resolve("a")), "a.test");
    CertificatePair b = SelfSignedCertificates.generate(Files.createDirectory(dir.resolve("b")), "b.test");
    start(config(tlsListener(a)));
    InetSocketAddress tls = address("tls");
    try (SSLSocket first = connectTls(tls)) {
      RawHttpClient before = RawHttpClient.over(first);
      assertThat(before.send("GET /a HTTP/1.1\r\nHost: a.test\r\n\r\n").readResponse().bodyText()).isEqualTo("ok /a");
      assertThat(subject(first)).contains("a.test");

      assertThat(reload(config(tlsListener(b))).applied()).isTrue();

      assertThat(address("tls")).isEqualTo(tls);
      try (SSLSocket second = connectTls(tls)) {
        assertThat(subject(second)).contains("b.test");
        assertThat(RawHttpClient.over(second).send("GET /b HTTP/1.1\r\nHost: b.test\r\n\r\n").readResponse()
            .bodyText()).isEqualTo("ok /b");
      }
      assertThat(before.send("GET /again HTTP/1.1\r\nHost: a.test\r\n\r\n").readResponse().bodyText())
          .as("the connection opened before the reload continues").isEqualTo("ok /again");
    }
    var registry = instance.proxy().metrics().registry();
    assertThat(registry.find("meridian.tls.certificate.expiry.timestamp.seconds").tag("listener", "tls").gauge())
        .as("the expiry gauge reads the certificates in force").isNotNull()
        .satisfies(g -> assertThat(g.value()).isFinite().isPositive());
    assertThat(reload(config(tlsListener(b).replace(", tls { certificates = [ { cert = \"" + b.cert()
        + "\", key = \"" + b.key() + "\" } ] }", ""))).applied()).as("the listener made cleartext").isTrue();
    assertThat(registry.find("meridian.tls.certificate.expiry.timestamp.seconds").tag("listener", "tls").gauge())
        .as("a cleartext listener has no certificate to expire").isNull();
  }

  private static String tlsListener(CertificatePair cert) {
    return "{ name = \"tls\", address = \"127.0.0.1:0\", tls { certificates = [ { cert = \"" + cert.cert()
        + "\", key = \"" + cert.key() + "\" } ] } }";
  }

  private static SSLSocket connectTls(InetSocketAddress address) throws Exception {
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, new TrustManager[] {new TrustingManager()}, null);
    SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket(address.getAddress(), address.getPort());
    socket.setSoTimeout(10_000);
    socket.startHandshake();
    return socket;
  }

  private static String subject(SSLSocket socket) throws Exception {
    return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
  }

  /** Trusts any certificate: the test reads which one the listener presented. */
  private static final class TrustingManager implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
