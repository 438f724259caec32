package dev.meridian.proxy.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Speaks HTTP/1.1 over a plain socket with exact bytes: a test writes the request text itself and
 * reads back one parsed response at a time.
 *
 * <pre>{@code
 * try (RawHttpClient client = RawHttpClient.connect(proxyPort)) {
 *   client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 *   RawHttpClient.RawResponse response = client.readResponse();
 * }
 * }</pre>
 *
 * <p>Every read gives up after the socket timeout (10 seconds unless set otherwise) so a test never hangs.
 * The body is read by {@code Content-Length}, by chunked coding (trailers kept), or until the peer closes
 * when neither is present; 1xx, 204, 304 and answers to HEAD have no body.
 */
public final class RawHttpClient implements AutoCloseable {

  /** Default socket timeout for connecting and every read. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  /**
   * One parsed response.
   *
   * @param headers field names case-insensitive (spelled as first received), values in arrival order
   * @param trailers chunked trailers, empty when there were none
   * @param version the status line's protocol, e.g. {@code HTTP/1.1}
   */
  public record RawResponse(int status, String reason, Map<String, List<String>> headers, byte[] body,
      Map<String, List<String>> trailers, String version) {

    /** The first value of {@code name}, or null. */
    public String header(String name) {
      List<String> values = headers.get(name);
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** Every value of {@code name}, empty if absent. */
    public List<String> headerValues(String name) {
      return headers.getOrDefault(name, List.of());
    }

    /** The first value of trailer {@code name}, or null. */
    public String trailer(String name) {
      List<String> values = trailers.get(name);
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The body decoded as UTF-8. */
    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final BufferedInputStream in;
  private final OutputStream out;

  private RawHttpClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  /** Connects to {@code 127.0.0.1:port}. */
  public static RawHttpClient connect(int port) throws IOException {
    return connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), DEFAULT_TIMEOUT);
  }

  /** Connects to {@code address}. */
  public static RawHttpClient connect(InetSocketAddress address) throws IOException {
    return connect(address, DEFAULT_TIMEOUT);
  }

  /** Connects to {@code address}, with {@code timeout} for connecting and for every read. */
  public static RawHttpClient connect(InetSocketAddress address, Duration timeout) throws IOException {
    return connect(null, address, timeout);
  }

  /**
   * Connects to {@code address} from the local address {@code from} (any port; null: the system's
   * choice), such as 127.0.0.2 to be another client on the loopback network.
   */
  public static RawHttpClient connect(InetAddress from, InetSocketAddress address, Duration timeout)
      throws IOException {
    Socket socket = new Socket();
    try {
      if (from != null) {
        socket.bind(new InetSocketAddress(from, 0));
      }
      socket.setTcpNoDelay(true);
      socket.connect(address, (int) timeout.toMillis());
      socket.setSoTimeout((int) timeout.toMillis());
      return new RawHttpClient(socket);
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  /** Speaks over a socket already connected (a TLS socket, say), its read timeout as set. */
  public static RawHttpClient over(Socket socket) throws IOException {
    return new RawHttpClient(socket);
  }

  /** Writes {@code raw} as UTF-8 and flushes. */
  public RawHttpClient send(String raw) throws IOException {
    return send(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code bytes} and flushes. */
  public RawHttpClient send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  /** Reads one response to a request that was not HEAD. */
  public RawResponse readResponse() throws IOException {
    return readResponse(false);
  }

  /** Reads one response; {@code headRequest} says it answers a HEAD, so it has no body. */
  public RawResponse readResponse(boolean headRequest) throws IOException {
    String statusLine = readLine();
    if (statusLine == null) {
      throw new EOFException("connection closed before a status line");
    }
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
      throw new IOException("not a status line: '" + statusLine + "'");
    }
    int status = Integer.parseInt(parts[1]);
    String reason = parts.length == 3 ? parts[2] : "";
    Map<String, List<String>> headers = readFields();
    Map<String, List<String>> trailers = Collections.unmodifiableMap(new TreeMap<>(String.CASE_INSENSITIVE_ORDER));
    byte[] body;
    if (headRequest || status < 200 || status == 204 || status == 304) {
      body = new byte[0];
    } else if (isChunked(headers)) {
      ByteArrayOutputStream content = new ByteArrayOutputStream();
      trailers = readChunked(content);
      body = content.toByteArray();
    } else if (headers.containsKey("content-length")) {
      body = readExactly(Long.parseLong(headers.get("content-length").get(0).trim()));
    } else {
      body = in.readAllBytes();
    }
    return new RawResponse(status, reason, headers, body, trailers, parts[0]);
  }

  /** Reads exactly {@code n} bytes, e.g. from a tunnel after {@code 101 Switching Protocols}. */
  public byte[] readBytes(int n) throws IOException {
    return readExactly(n);
  }

  /** True if the peer closes (or resets) the connection within the socket timeout; false if it sends data or stays open. */
  public boolean isClosedByPeer() throws IOException {
    return isClosedByPeer(Duration.ofMillis(socket.getSoTimeout()));
  }

  /** True if the peer closes (or resets) the connection within {@code within}; false if it sends data or stays open. */
  public boolean isClosedByPeer(Duration within) throws IOException {
    int previous = socket.getSoTimeout();
    socket.setSoTimeout((int) Math.max(1, within.toMillis()));
    try {
      in.mark(1);
      int b = in.read();
      if (b < 0) {
        return true;
      }
      in.reset();
      return false;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true;
    } finally {
      if (!socket.isClosed()) {
        socket.setSoTimeout(previous);
      }
    }
  }

  /** The underlying socket, for half-close, SO_LINGER resets and the like. */
  public Socket socket() {
    return socket;
  }

  /** The buffered input: read through this, not the socket, once responses have been read. */
  public InputStream input() {
    return in;
  }

  /** The socket's output stream. */
  public OutputStream output() {
    return out;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private static boolean isChunked(Map<String, List<String>> headers) {
    List<String> codings = headers.get("transfer-encoding");
    if (codings == null || codings.isEmpty()) {
      return false;
    }
    String last = codings.get(codings.size() - 1);
    String[] tokens = last.split(",");
    return tokens[tokens.length - 1].trim().equalsIgnoreCase("chunked");
  }

  private Map<String, List<String>> readChunked(ByteArrayOutputStream content) throws IOException {
    while (true) {
      String sizeLine = readLine();
      if (sizeLine == null) {
        throw new EOFException("connection closed before a chunk size");
      }
      int semicolon = sizeLine.indexOf(';');
      String hex = (semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim();
      long size = Long.parseLong(hex, 16);
      if (size == 0) {
        return readFields();
      }
      content.write(readExactly(size));
      String end = readLine();
      if (end == null || !end.isEmpty()) {
        throw new IOException("chunk of " + size + " bytes not followed by CRLF but '" + end + "'");
      }
    }
  }

  /** Reads header (or trailer) fields up to the blank line into a case-insensitive multimap. */
  private Map<String, List<String>> readFields() throws IOException {
    Map<String, List<String>> fields = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    while (true) {
      String line = readLine();
      if (line == null) {
        throw new EOFException("connection closed inside a header block");
      }
      if (line.isEmpty()) {
        break;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new IOException("not a header field: '" + line + "'");
      }
      String name = line.substring(0, colon).trim();
      fields.computeIfAbsent(name, k -> new ArrayList<>()).add(line.substring(colon + 1).trim());
    }
    fields.replaceAll((name, values) -> List.copyOf(values));
    return Collections.unmodifiableMap(fields);
  }

  private byte[] readExactly(long n) throws IOException {
    if (n > Integer.MAX_VALUE - 8) {
      throw new IOException("body of " + n + " bytes is too large for a test client");
    }
    byte[] bytes = in.readNBytes((int) n);
    if (bytes.length < n) {
      throw new EOFException("connection closed after " + bytes.length + " of " + n + " bytes");
    }
    return bytes;
  }

  /** Reads a line ended by CRLF (or a bare LF) as ISO-8859-1; null if the stream ends before any byte. */
  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (line.size() == 0) {
          return null;
        }
        throw new EOFException("connection closed inside a line: '" + line.toString(StandardCharsets.ISO_8859_1) + "'");
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
    }
  }
}
