package dev.meridian.proxy.forwarding;

import static dev.meridian.proxy.forwarding.Http2RequestRules.value;
import static dev.meridian.proxy.forwarding.Http2RequestRules.values;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.meridian.proxy.forwarding.Http1Transcript.Reading;
import dev.meridian.proxy.forwarding.Http1Transcript.Request;
import dev.meridian.proxy.forwarding.Http2RequestScript.Field;
import dev.meridian.proxy.routing.PathPolicy;
import dev.meridian.proxy.routing.RequestTarget;
import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawTcpBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the HTTP/2-to-HTTP/1.1 translation end to end (Jazzer): a client sends an HTTP/2 request
 * built from the input ({@link Http2RequestScript}: pseudo-header fields missing, repeated or out of
 * place, any bytes in names and values, connection-specific fields, a content-length against the
 * DATA sent, trailers) to a real Meridian, over a socket, and a backend records every byte the proxy
 * sends it. Whatever the request, either
 * <ul>
 *   <li>it is refused (a local answer or a reset) and no backend received it complete, or
 *   <li>the backend answered it, and what it received reads, by Meridian's strict decoder and by
 *       Netty's alike, as exactly one request and nothing after it, with the client's method, target
 *       (as admission normalizes it), authority as Host, fields (but those the proxy owns:
 *       hop-by-hop, forwarding headers, request id), cookies joined, framing that agrees with the body,
 *       and the DATA bytes as the body;
 * </ul>
 * a malformed request (RFC 9113 section 8.1.1) is never forwarded, a plain one always is, every
 * stream is answered in time, and no buffer leaks (the suite runs with leak detection at PARANOID).
 *
 * <p>A normal test run replays the stored inputs in {@code Http2ForwardingFuzzTestInputs/} (written
 * as the requests they are); {@code JAZZER_FUZZ=1 mvn -pl proxy-core test -Dtest=Http2ForwardingFuzzTest}
 * explores for as long as {@code maxDuration} allows and stores what it finds there.
 */
class Http2ForwardingFuzzTest {
  private static final byte[] OK =
      "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] BAD_REQUEST =
      "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  /** Read after what the backend received: a byte left over from the request would make it another one. */
  private static final byte[] SENTINEL =
      "GET /sentinel HTTP/1.1\r\nhost: sentinel\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final Request SENTINEL_REQUEST =
      new Request("GET", "/sentinel", "HTTP/1.1", List.of("host: sentinel"), "", List.of());
  private static final int STREAM = 1;
  /** How long the backend waits for the proxy's next byte, and the test for the backend to finish. */
  private static final int TIMEOUT_MILLIS = 10_000;

  private static final Received received = new Received();
  private static RawTcpBackend backend;
  private static ForwardingProxy proxy;

  @BeforeAll
  static void start() throws Exception {
    backend = RawTcpBackend.start(Http2ForwardingFuzzTest::serve);
    proxy = ForwardingProxy.to(backend.address()).start();
  }

  @AfterAll
  static void stop() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  @DictionaryEntries({":method: ", ":scheme: http", ":path: /", ":authority: app.test", "host: ", "cookie: ",
      "content-length: ", "transfer-encoding: chunked", "te: trailers", "connection: ", "upgrade: ",
      "keep-alive: ", "expect: 100-continue", "x-forwarded-for: ",
      // libFuzzer's dictionary syntax: \\ is a backslash, \xAB a byte.
      "\\x0a@data ", "\\x0a@data*", "\\x0a@trailers\\x0a", "\\\\r\\\\n", "\\\\0", "\\\\x",
      "GET", "POST", "HEAD", "CONNECT", "OPTIONS", "http://", "%2F", "/../", "//"})
  @FuzzTest(maxDuration = "10m")
  void whatReachesTheBackendIsTheClientsRequestOnceOrNothing(byte[] input) throws Exception {
    Http2RequestScript request = Http2RequestScript.parse(input);
    String shown = request.toString();
    String outcome;
    List<byte[]> transcripts;
    // Jazzer's bug detectors take any connection for server-side request forgery: the client's to
    // the proxy and the proxy's to its backend are ones the test makes on purpose.
    try (SilentCloseable loopbackOnly = BugDetectors.allowNetworkConnections((host, port) -> isLoopback(host))) {
      outcome = send(request);
      // A connection of our own, queued behind any the proxy opened for the request: once the backend
      // has accepted and ended it, it has accepted theirs, and waits for them to end too.
      int barrier;
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), backend.port())) {
        barrier = socket.getLocalPort();
      }
      transcripts = received.await(backend, barrier, TIMEOUT_MILLIS);
    }
    assertThat(backend.errors()).as("the backend's errors").isEmpty();

    List<Request> complete = new ArrayList<>();
    for (byte[] transcript : transcripts) {
      Reading reading = Http1Transcript.read(transcript, Http1Transcript.meridian());
      assertThat(reading.failure()).as("what the backend received reads as HTTP/1.1: %s, from\n%s",
          text(transcript), shown).isNull();
      complete.addAll(reading.requests());
    }
    String refusal = Http2RequestRules.reasonToRefuse(request);
    if (!outcome.startsWith("status 200")) {
      assertThat(complete).as("requests a backend received whole though the client got %s, from\n%s", outcome, shown)
          .isEmpty();
      assertThat(Http2RequestRules.plainlyAcceptable(request)).as("a plain request was refused (%s):\n%s", outcome, shown)
          .isFalse();
      return;
    }
    assertThat(complete).as("requests a backend received whole for one the client sent:\n%s", shown).hasSize(1);
    byte[] forwarded = transcripts.stream()
        .filter(t -> !Http1Transcript.read(t, Http1Transcript.meridian()).requests().isEmpty()).findFirst().get();
    assertThat(refusal).as("a request to refuse was forwarded as %s\nfrom\n%s", text(forwarded), shown).isNull();
    checkReadsAsOneRequest(forwarded, shown);
    checkSameRequest(request, complete.get(0), shown);
  }

  /** Exactly one request, nothing after it, and Netty's decoder reads the same one. */
  private static void checkReadsAsOneRequest(byte[] forwarded, String shown) {
    ByteArrayOutputStream then = new ByteArrayOutputStream();
    then.writeBytes(forwarded);
    then.writeBytes(SENTINEL);
    Reading ours = Http1Transcript.read(then.toByteArray(), Http1Transcript.meridian());
    String seen = text(forwarded);
    assertThat(ours.failure()).as("what the backend received, and a request after it: %s\nfrom\n%s", seen, shown).isNull();
    assertThat(ours.requests()).as("what the backend received, and a request after it: %s\nfrom\n%s", seen, shown)
        .hasSize(2).last().isEqualTo(SENTINEL_REQUEST);
    Reading netty = Http1Transcript.read(then.toByteArray(), Http1Transcript.netty());
    assertThat(netty.requests().stream().map(Http2ForwardingFuzzTest::withoutHostTrailer).toList())
        .as("Netty's reading (failed: %s) of %s\nfrom\n%s", netty.failure(), seen, shown).isEqualTo(ours.requests());
  }

  /** The request the backend received is the client's, but for what the proxy owns. */
  private static void checkSameRequest(Http2RequestScript request, Request forwarded, String shown) {
    List<Field> head = request.head();
    String method = value(head, ":method");
    RequestTarget target = RequestTarget.parse(value(head, ":path"), method, PathPolicy.DEFAULT);
    assertThat(target).as("a target admission refuses was forwarded:\n%s", shown).isNotNull();
    String as = "forwarded " + forwarded + "\nfrom\n" + shown;
    assertThat(forwarded.method()).as(as).isEqualTo(method);
    assertThat(forwarded.target()).as(as).isEqualTo(target.originForm());
    assertThat(forwarded.version()).as(as).isEqualTo("HTTP/1.1");
    String host = value(head, "host") != null ? value(head, "host") : value(head, ":authority");
    if (host != null) {
      assertThat(forwarded.values("host")).as(as).containsExactly(host);
    } else {
      assertThat(forwarded.values("host")).as(as).hasSize(1);
    }
    assertThat(Http2RequestRules.endToEnd(forwarded.fields())).as(as)
        .isEqualTo(Http2RequestRules.endToEndFields(head));
    List<String> crumbs = values(head, "cookie");
    assertThat(forwarded.values("cookie")).as(as)
        .isEqualTo(crumbs.isEmpty() ? List.of() : List.of(String.join("; ", crumbs)));
    byte[] body = request.body();
    assertThat(forwarded.body()).as(as).isEqualTo(new String(body, StandardCharsets.ISO_8859_1));
    if (!values(head, "content-length").isEmpty()) {
      assertThat(forwarded.values("content-length")).as(as).containsExactly(Integer.toString(body.length));
    }
    boolean chunked = forwarded.values("transfer-encoding").equals(List.of("chunked"));
    List<String> trailers = chunked && !request.laterHeaders().isEmpty()
        ? Http2RequestRules.trailerFields(request.laterHeaders().get(0).fields()) : List.of();
    assertThat(forwarded.trailers()).as(as).isEqualTo(trailers);
  }

  /** Sends the request on a new connection; returns what the stream got: "status N", "reset N" or "closed". */
  private static String send(Http2RequestScript request) throws IOException {
    try (RawHttp2Client client = new RawHttp2Client(proxy.port()).lenient()) {
      try {
        client.sendRaw(request.encode(STREAM));
        client.readUntil(c -> c.ended(STREAM) || c.resetError(STREAM) != null);
      } catch (SocketException e) {
        // After a connection error the proxy closes with the client's frames unread: a TCP reset.
        return client.status(STREAM) != null ? "status " + client.status(STREAM) + ", then reset"
            : "closed by a TCP reset (GOAWAY " + client.goAwayError() + ")";
      }
      if (client.status(STREAM) != null) {
        return "status " + client.status(STREAM);
      }
      return client.resetError(STREAM) != null ? "reset " + client.resetError(STREAM)
          : "closed (GOAWAY " + client.goAwayError() + ")";
    }
  }

  /**
   * The backend: records what one connection brings until the proxy closes it, answering 200 (and
   * closing its side) once a whole request has arrived, or 400 if the bytes do not read as one.
   */
  private static void serve(Socket socket) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      socket.setSoTimeout(TIMEOUT_MILLIS);
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[16 * 1024];
      boolean answered = false;
      for (int n; (n = readOrEnd(in, buffer)) > 0; ) {
        bytes.write(buffer, 0, n);
        if (!answered) {
          Reading reading = Http1Transcript.read(bytes.toByteArray(), Http1Transcript.meridian());
          answered = reading.failure() != null || !reading.requests().isEmpty();
          if (answered) {
            answer(socket, reading.failure() == null ? OK : BAD_REQUEST);
          }
        }
      }
    } finally {
      received.add(socket.getPort(), bytes.toByteArray());
    }
  }

  /** Reads what is there; -1 at the end or when the proxy reset the connection (it abandoned the request). */
  private static int readOrEnd(InputStream in, byte[] buffer) throws IOException {
    try {
      return in.read(buffer);
    } catch (SocketTimeoutException e) {
      throw e;
    } catch (SocketException e) {
      return -1;
    }
  }

  private static void answer(Socket socket, byte[] response) {
    try {
      socket.getOutputStream().write(response);
      socket.shutdownOutput();
    } catch (IOException e) {
      // The proxy gave up on the request first: what it sent is still read to the end.
    }
  }

  private static Request withoutHostTrailer(Request request) {
    return new Request(request.method(), request.target(), request.version(), request.fields(), request.body(),
        request.trailers().stream().filter(t -> !t.startsWith("host: ")).toList());
  }

  private static String text(byte[] bytes) {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    return text.length() > 2000 ? text.substring(0, 2000) + "..." : text;
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (IOException e) {
      return false;
    }
  }

  /** The bytes of each backend connection, kept once it ended, by the client port it came from. */
  private static final class Received {
    private final List<Map.Entry<Integer, byte[]>> transcripts = new ArrayList<>();
    private int finished;

    synchronized void add(int port, byte[] transcript) {
      transcripts.add(Map.entry(port, transcript));
      finished++;
      notifyAll();
    }

    /**
     * Waits until the connection from {@code barrierPort} and every connection the backend accepted
     * have ended, then hands over the bytes of all but the barrier's.
     */
    synchronized List<byte[]> await(RawTcpBackend backend, int barrierPort, long timeoutMillis)
        throws InterruptedException {
      long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
      while (transcripts.stream().noneMatch(t -> t.getKey() == barrierPort) || finished < backend.connectionCount()) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        assertThat(left).as("the backend's connections ended within %s ms", timeoutMillis).isPositive();
        wait(left);
      }
      List<byte[]> taken = transcripts.stream().filter(t -> t.getKey() != barrierPort).map(Map.Entry::getValue).toList();
      transcripts.clear();
      return taken;
    }
  }
}
