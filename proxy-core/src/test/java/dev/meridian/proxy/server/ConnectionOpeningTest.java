package dev.meridian.proxy.server;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A client connection that never gets as far as a request is closed: one its client closes before
 * sending a byte (a TCP health check, a port scan) at once, one that sends nothing, part of the
 * HTTP/2 preface, no TLS ClientHello, or only empty lines, within {@code limits.request-head-timeout}.
 * None of them keeps its descriptor or its place under {@code max-connections}.
 */
class ConnectionOpeningTest {
  private static final Duration HEAD_TIMEOUT = Duration.ofSeconds(1);
  /** Well past the head's deadline, well short of the idle timeout (60 s). */
  private static final Duration WITHIN = Duration.ofSeconds(8);

  @TempDir
  Path dir;
  private TestBackend backend;
  private MeridianInstance proxy;
  private CertificatePair cert;

  @BeforeEach
  void start() throws Exception {
    backend = TestBackend.start(request -> TestBackend.Reply.ok("hello"));
    cert = SelfSignedCertificates.generate(dir, "localhost");
    proxy = new MeridianInstance(SettingsLoader.parse("meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\", max-connections = 5 }\n"
        + "    { name = \"tls\", address = \"127.0.0.1:0\", tls { certificates = [ { cert = \"" + cert.cert()
        + "\", key = \"" + cert.key() + "\" } ] } } ]\n"
        + "  admin { enabled = false }\n"
        + "  server { event-loop-threads = 1 }\n"
        + "  limits { request-head-timeout = " + HEAD_TIMEOUT.toMillis() + "ms }\n"
        + "  timeouts { client-idle = 60s }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + backend.port() + "\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n", "opening-test")).start();
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    backend.close();
  }

  private InetSocketAddress cleartext() {
    return proxy.listenerAddresses().get(0);
  }

  private InetSocketAddress tls() {
    return proxy.listenerAddresses().get(1);
  }

  @Test
  void connectionsClosedByTheirClientsBeforeAnyByteAreClosedAndFreeTheirPlaces() throws Exception {
    // Twice the listener's max-connections: each probe's place must come back.
    for (int i = 0; i < 10; i++) {
      try (Socket probe = new Socket()) {
        probe.connect(cleartext());
        probe.shutdownOutput();
        assertThat(closedByProxy(probe, WITHIN)).as("probe %d closed by the proxy", i).isTrue();
      }
    }
    try (RawHttpClient client = RawHttpClient.connect(cleartext())) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().bodyText()).isEqualTo("hello");
    }
  }

  @Test
  void tlsConnectionsClosedBeforeTheirClientHelloAreClosed() throws Exception {
    try (Socket probe = new Socket()) {
      probe.connect(tls());
      probe.shutdownOutput();
      assertThat(closedByProxy(probe, WITHIN)).isTrue();
    }
  }

  @Test
  void silentConnectionsAreClosedAfterTheHeadTimeout() throws Exception {
    List<Socket> silent = new ArrayList<>();
    try {
      silent.add(connect(cleartext(), ""));
      silent.add(connect(cleartext(), "PRI * HTTP/2.0\r\n"));
      silent.add(connect(tls(), ""));
      long start = System.nanoTime();
      for (Socket socket : silent) {
        assertThat(closedByProxy(socket, WITHIN)).isTrue();
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(HEAD_TIMEOUT.dividedBy(2));
    } finally {
      for (Socket socket : silent) {
        socket.close();
      }
    }
  }

  /**
   * A TLS client that completes its handshake and then says nothing (no request byte, no or half an
   * HTTP/2 preface) is held to the same deadline as a cleartext one: it stayed until client-idle (60 s),
   * so an address could keep a listener full with a handshake a second.
   */
  @ParameterizedTest(name = "{0} then [{1}]")
  @CsvSource({"http/1.1,''", "h2,''", "h2,PRI * HTTP/2.0"})
  void tlsConnectionsSilentAfterTheirHandshakeAreClosedAfterTheHeadTimeout(String alpn, String sent) throws Exception {
    try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) dev.meridian.proxy.testing.TrustingSsl.trusting(cert)
        .getSocketFactory().createSocket(tls().getAddress(), tls().getPort())) {
      javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {alpn});
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      assertThat(socket.getApplicationProtocol()).isEqualTo(alpn);
      if (!sent.isEmpty()) {
        socket.getOutputStream().write(sent.getBytes(US_ASCII));
        socket.getOutputStream().flush();
      }
      assertThat(closedByProxy(socket, WITHIN)).as("closed at the head's deadline, not client-idle's").isTrue();
    }
    try (RawHttpClient client = RawHttpClient.over(dev.meridian.proxy.testing.TrustingSsl.trusting(cert)
        .getSocketFactory().createSocket(tls().getAddress(), tls().getPort()))) {
      client.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertThat(client.readResponse().bodyText()).as("a client that speaks is served").isEqualTo("hello");
    }
  }

  /** Empty lines before a request line are allowed, but they start the head's deadline. */
  @Test
  void emptyLinesDripFedAreAnsweredWith408() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(cleartext())) {
      long deadline = System.nanoTime() + WITHIN.toNanos();
      InputStream in = client.input();
      client.socket().setSoTimeout(300);
      boolean answered = false;
      while (!answered && System.nanoTime() < deadline) {
        client.send("\r\n");
        in.mark(1);
        try {
          answered = in.read() >= 0;
          in.reset();
        } catch (SocketTimeoutException nothingYet) {
          // send another empty line
        }
      }
      assertThat(answered).as("answered within " + WITHIN).isTrue();
      client.socket().setSoTimeout(5000);
      assertThat(client.readResponse().status()).isEqualTo(408);
    }
    // A request after one empty line is still served.
    try (RawHttpClient client = RawHttpClient.connect(cleartext())) {
      client.send("\r\nGET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().bodyText()).isEqualTo("hello");
    }
  }

  private static Socket connect(InetSocketAddress address, String first) throws IOException {
    Socket socket = new Socket();
    socket.connect(address);
    if (!first.isEmpty()) {
      socket.getOutputStream().write(first.getBytes(US_ASCII));
      socket.getOutputStream().flush();
    }
    return socket;
  }

  /** Whether the proxy closed the connection (end of stream or reset) within the time. */
  private static boolean closedByProxy(Socket socket, Duration within) throws IOException {
    socket.setSoTimeout((int) within.toMillis());
    InputStream in = socket.getInputStream();
    try {
      while (true) {
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (SocketException reset) {
      return true;
    }
  }
}
