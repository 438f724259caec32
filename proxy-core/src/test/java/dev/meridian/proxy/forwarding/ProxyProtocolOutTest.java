package dev.meridian.proxy.forwarding;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawTcpBackend;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A backend group with {@code proxy-protocol = v1 | v2}: each connection to a backend opens with a
 * PROXY header naming the client and the address it connected to, before the request; a connection
 * only ever carries the requests of the client connection it names, and closes with it; a client that
 * came through PROXY protocol itself is named as its own header said; health checks say LOCAL/UNKNOWN.
 *
 * <p>The backend reads the header byte by byte as the specification lays it out (not with Netty's
 * decoder), then answers each request with the number of the connection it came on.
 */
class ProxyProtocolOutTest {
  private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  /** What a PROXY header said; addresses and ports are null/0 for UNKNOWN and LOCAL. */
  record Header(String version, String command, String family, InetAddress source, InetAddress destination,
      int sourcePort, int destinationPort) {}

  /** One connection the backend accepted: its header and the paths of the requests it carried. */
  static final class Upstream {
    final int number;
    volatile Header header;
    final List<String> paths = new CopyOnWriteArrayList<>();
    volatile boolean closedByProxy;

    Upstream(int number) {
      this.number = number;
    }
  }

  private final List<Upstream> upstreams = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private RawTcpBackend backend;
  private ForwardingProxy proxy;

  @BeforeEach
  void startBackend() throws IOException {
    backend = RawTcpBackend.start(socket -> {
      Upstream upstream = new Upstream(accepted.incrementAndGet());
      upstreams.add(upstream);
      InputStream in = socket.getInputStream();
      upstream.header = readProxyHeader(in);
      while (true) {
        String head;
        try {
          head = RawTcpBackend.readHead(in);
        } catch (EOFException e) {
          upstream.closedByProxy = true;
          return;
        }
        upstream.paths.add(head.split(" ")[1]);
        String body = "upstream " + upstream.number;
        socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
            .getBytes(US_ASCII));
      }
    });
  }

  @AfterEach
  void stop() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
    backend.close();
  }

  private void start(ForwardingProxy configured) throws Exception {
    proxy = configured.start();
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: app.test\r\n\r\n";
  }

  /** Sends a GET and returns the number of the backend connection that carried it. */
  private static int upstreamOf(RawHttpClient client, String path) throws IOException {
    client.send(get(path));
    RawHttpClient.RawResponse response = client.readResponse();
    assertThat(response.status()).as(path).isEqualTo(200);
    return Integer.parseInt(response.bodyText().substring("upstream ".length()));
  }

  private Upstream upstream(int number) {
    return upstreams.stream().filter(u -> u.number == number).findFirst().orElseThrow();
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2"})
  void theHeaderComesFirstAndNamesTheClientAndWhereItConnected(String version) throws Exception {
    start(ForwardingProxy.to(backend.address()).groupOption("proxy-protocol = " + version));
    try (RawHttpClient client = proxy.connect()) {
      int first = upstreamOf(client, "/one");
      int second = upstreamOf(client, "/two");
      assertThat(second).as("the same client's keep-alive requests reuse its connection").isEqualTo(first);
      assertThat(upstream(first).header).isEqualTo(new Header(version, "PROXY", "TCP4", LOOPBACK, LOOPBACK,
          client.socket().getLocalPort(), proxy.port()));
      assertThat(upstream(first).paths).containsExactly("/one", "/two");
    }
    assertThat(backend.connectionCount()).isEqualTo(1);
    assertThat(backend.errors()).isEmpty();
  }

  @Test
  void twoClientConnectionsNeverShareAnUpstreamConnection() throws Exception {
    // One event loop, so both clients draw on the same pool: a shared idle connection would be reused.
    start(ForwardingProxy.to(backend.address()).groupOption("proxy-protocol = v2"));
    try (RawHttpClient a = proxy.connect(); RawHttpClient b = proxy.connect()) {
      int a1 = upstreamOf(a, "/a1");
      int b1 = upstreamOf(b, "/b1");
      int a2 = upstreamOf(a, "/a2");
      int b2 = upstreamOf(b, "/b2");
      assertThat(a1).isNotEqualTo(b1);
      assertThat(a2).isEqualTo(a1);
      assertThat(b2).isEqualTo(b1);
      assertThat(upstream(a1).header.sourcePort()).isEqualTo(a.socket().getLocalPort());
      assertThat(upstream(a1).paths).containsExactly("/a1", "/a2");
      assertThat(upstream(b1).header.sourcePort()).isEqualTo(b.socket().getLocalPort());
      assertThat(upstream(b1).paths).containsExactly("/b1", "/b2");

      a.close();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(upstream(a1).closedByProxy).as("closed with its client connection").isTrue());
      try (RawHttpClient c = proxy.connect()) {
        int c1 = upstreamOf(c, "/c1");
        assertThat(c1).isNotIn(a1, b1);
        assertThat(upstream(c1).header.sourcePort()).isEqualTo(c.socket().getLocalPort());
      }
      assertThat(upstreamOf(b, "/b3")).isEqualTo(b1);
    }
    for (Upstream u : upstreams) {
      assertThat(u.paths).as("connection %s carries one client's requests", u.number)
          .allSatisfy(p -> assertThat(p.charAt(1)).isEqualTo(u.paths.get(0).charAt(1)));
    }
    assertThat(backend.errors()).isEmpty();
  }

  @Test
  void theStreamsOfOneHttp2ClientConnectionShareItsUpstreamConnectionsWhichCloseWithIt() throws Exception {
    start(ForwardingProxy.to(backend.address()).groupOption("proxy-protocol = v1"));
    try (RawHttp2Client h2 = new RawHttp2Client(proxy.port())) {
      for (int stream = 1; stream <= 7; stream += 2) {
        h2.get(stream, "/h2-" + stream);
        int done = stream;
        h2.readUntil(c -> c.ended(done));
        assertThat(h2.status(stream)).isEqualTo("200");
      }
      assertThat(upstreams).isNotEmpty().extracting(u -> u.header.sourcePort()).containsOnly(
          upstreams.get(0).header.sourcePort());
      assertThat(upstreams.stream().mapToInt(u -> u.paths.size()).sum()).isEqualTo(4);
      assertThat(upstreams).as("streams one after another reuse the connection's upstream").hasSize(1);
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(upstreams).allSatisfy(u -> assertThat(u.closedByProxy).isTrue()));
    assertThat(backend.errors()).isEmpty();
  }

  @Test
  void aClientThatCameThroughProxyProtocolIsNamedAsItsOwnHeaderSaid() throws Exception {
    start(ForwardingProxy.to(backend.address()).groupOption("proxy-protocol = v2")
        .set("listeners = [ { name = \"web\", address = \"127.0.0.1:0\", proxy-protocol-from = [\"127.0.0.0/8\"] } ]"));
    try (RawHttpClient client = proxy.connect()) {
      client.send("PROXY TCP4 203.0.113.7 192.0.2.1 40000 80\r\n");
      int ipv4 = upstreamOf(client, "/four");
      assertThat(upstream(ipv4).header).isEqualTo(new Header("v2", "PROXY", "TCP4",
          InetAddress.getByName("203.0.113.7"), InetAddress.getByName("192.0.2.1"), 40000, 80));
    }
    try (RawHttpClient client = proxy.connect()) {
      client.send("PROXY TCP6 2001:db8::7 2001:db8::1 40001 443\r\n");
      int ipv6 = upstreamOf(client, "/six");
      assertThat(upstream(ipv6).header).isEqualTo(new Header("v2", "PROXY", "TCP6",
          InetAddress.getByName("2001:db8::7"), InetAddress.getByName("2001:db8::1"), 40001, 443));
    }
    assertThat(backend.errors()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2"})
  void healthChecksSendAHeaderOfTheirOwn(String version) throws Exception {
    start(ForwardingProxy.to(backend.address()).groupOption("proxy-protocol = " + version)
        .groupOption("health { active { path = \"/healthz\", interval = 100ms } }"));
    await().atMost(Duration.ofSeconds(10)).until(() -> upstreams.stream().anyMatch(u -> u.paths.contains("/healthz")));
    Upstream check = upstreams.stream().filter(u -> u.paths.contains("/healthz")).findFirst().orElseThrow();
    assertThat(check.header).isEqualTo(version.equals("v1")
        ? new Header("v1", "PROXY", "UNKNOWN", null, null, 0, 0)
        : new Header("v2", "LOCAL", "UNSPEC", null, null, 0, 0));
    assertThat(backend.errors()).isEmpty();
  }

  /** Reads a v1 or v2 header as the PROXY protocol specification lays it out; fails on anything else. */
  static Header readProxyHeader(InputStream in) throws IOException {
    int first = in.read();
    if (first == 'P') {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      line.write(first);
      int b;
      while ((b = in.read()) != '\n') {
        if (b < 0 || line.size() > 107) {
          throw new IOException("no v1 header: " + line);
        }
        line.write(b);
      }
      String[] parts = line.toString(US_ASCII).stripTrailing().split(" ");
      if (!parts[0].equals("PROXY")) {
        throw new IOException("no v1 header: " + line);
      }
      if (parts[1].equals("UNKNOWN")) {
        return new Header("v1", "PROXY", "UNKNOWN", null, null, 0, 0);
      }
      return new Header("v1", "PROXY", parts[1], InetAddress.getByName(parts[2]), InetAddress.getByName(parts[3]),
          Integer.parseInt(parts[4]), Integer.parseInt(parts[5]));
    }
    DataInputStream data = new DataInputStream(in);
    byte[] signature = new byte[12];
    signature[0] = (byte) first;
    data.readFully(signature, 1, 11);
    if (!Arrays.equals(signature, V2_SIGNATURE)) {
      throw new IOException("no PROXY header: " + Arrays.toString(signature));
    }
    int versionCommand = data.readUnsignedByte();
    int family = data.readUnsignedByte();
    byte[] addresses = new byte[data.readUnsignedShort()];
    data.readFully(addresses);
    if (versionCommand >> 4 != 2) {
      throw new IOException("version " + (versionCommand >> 4));
    }
    String command = (versionCommand & 0x0F) == 1 ? "PROXY" : "LOCAL";
    int size = switch (family) {
      case 0x11 -> 4;
      case 0x21 -> 16;
      default -> 0;
    };
    if (size == 0) {
      return new Header("v2", command, family == 0 ? "UNSPEC" : "family " + family, null, null, 0, 0);
    }
    ByteBuffer b = ByteBuffer.wrap(addresses);
    byte[] source = new byte[size];
    byte[] destination = new byte[size];
    b.get(source).get(destination);
    return new Header("v2", command, size == 4 ? "TCP4" : "TCP6", InetAddress.getByAddress(source),
        InetAddress.getByAddress(destination), Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()));
  }
}
