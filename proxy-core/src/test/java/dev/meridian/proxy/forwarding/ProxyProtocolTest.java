package dev.meridian.proxy.forwarding;

import static dev.meridian.proxy.testing.Bytes.concat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A listener behind a load balancer that speaks the PROXY protocol: the client a v1 or v2 header names
 * is the client backends are told of; a connection from elsewhere, or one without a valid header, is
 * closed and reaches no backend; the balancer's own LOCAL health check stays the balancer.
 */
class ProxyProtocolTest {
  private static final String GET = "GET /who HTTP/1.1\r\nHost: app.test\r\n\r\n";
  private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  private TestBackend backend;
  private ForwardingProxy proxy;

  @BeforeEach
  void startBackend() {
    backend = TestBackend.start(TestBackend.ok("fine"));
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    backend.close();
  }

  private void start(String from) throws Exception {
    proxy = ForwardingProxy.to(backend.address())
        .set("listeners = [ { name = \"web\", address = \"127.0.0.1:0\", proxy-protocol-from = [" + from + "] } ]")
        .start();
  }

  /** A v2 header: PROXY (or LOCAL) over TCP/IPv4 from {@code source}:40000 to 192.0.2.1:80. */
  private static byte[] v2(boolean local, byte[] source) {
    ByteBuffer b = ByteBuffer.allocate(16 + 12);
    b.put(V2_SIGNATURE).put((byte) (local ? 0x20 : 0x21)).put((byte) 0x11).putShort((short) 12);
    b.put(source).put(new byte[] {(byte) 192, 0, 2, 1}).putShort((short) 40000).putShort((short) 80);
    return b.array();
  }

  @Test
  void aV1HeaderNamesTheClientBackendsAreToldOf() throws Exception {
    start("\"127.0.0.0/8\"");
    try (RawHttpClient client = proxy.connect()) {
      client.send("PROXY TCP4 203.0.113.7 192.0.2.1 40000 80\r\n" + GET);
      assertThat(client.readResponse().status()).isEqualTo(200);
      client.send(GET);
      assertThat(client.readResponse().status()).as("the connection goes on").isEqualTo(200);
    }
    assertThat(backend.requests()).extracting(r -> r.header("x-forwarded-for"))
        .containsExactly("203.0.113.7", "203.0.113.7");
  }

  @Test
  void aV2HeaderNamesTheClientAndALocalOneLeavesTheBalancer() throws Exception {
    start("\"127.0.0.1\"");
    try (RawHttpClient client = proxy.connect()) {
      client.send(concat(v2(false, new byte[] {(byte) 198, 51, 100, 9}), GET.getBytes(StandardCharsets.US_ASCII)));
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    try (RawHttpClient client = proxy.connect()) {
      client.send(concat(v2(true, new byte[] {(byte) 198, 51, 100, 9}), GET.getBytes(StandardCharsets.US_ASCII)));
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(backend.requests()).extracting(r -> r.header("x-forwarded-for"))
        .containsExactly("198.51.100.9", "127.0.0.1");
  }

  @Test
  void aConnectionFromAnywhereElseIsClosed() throws Exception {
    start("\"10.0.0.0/8\"");
    try (RawHttpClient client = proxy.connect()) {
      client.send("PROXY TCP4 203.0.113.7 192.0.2.1 40000 80\r\n" + GET);
      assertThat(client.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
    }
    assertThat(backend.requests()).isEmpty();
  }

  @Test
  void aConnectionWithoutAValidHeaderIsClosed() throws Exception {
    start("\"127.0.0.0/8\"");
    for (String opening : new String[] {GET, "PROXY TCP4 not-an-address 192.0.2.1 40000 80\r\n" + GET}) {
      try (RawHttpClient client = proxy.connect()) {
        client.send(opening);
        assertThat(client.isClosedByPeer(Duration.ofSeconds(5))).as(opening).isTrue();
      }
    }
    assertThat(backend.requests()).isEmpty();
  }
}
