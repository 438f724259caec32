package dev.meridian.proxy.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * An HTTP/2 client over a plain socket (prior knowledge) for tests that must decide every frame the
 * client sends, flow control above all: it sends the preface, empty SETTINGS, GET requests, the
 * WINDOW_UPDATEs the test asks for (never one of its own) and any frame or bytes a test builds,
 * acknowledges SETTINGS and PING, and counts each stream's DATA bytes, the window the server grants, its response status (decoded
 * with Netty's HPACK decoder, which keeps the dynamic table across the connection's header blocks),
 * its first header block as it arrived, and whether the stream ended. A GOAWAY or RST_STREAM fails the test,
 * unless the client was made {@linkplain #lenient lenient}: then they are recorded.
 */
public final class RawHttp2Client implements AutoCloseable {
  public static final int CONTINUATION = 9;
  /** The CANCEL error code, for {@link #reset}. */
  public static final int CANCEL = 0x8;
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  public static final int DATA = 0;
  public static final int HEADERS = 1;
  private static final int RST_STREAM = 3;
  public static final int SETTINGS = 4;
  private static final int PING = 6;
  private static final int GOAWAY = 7;
  private static final int WINDOW_UPDATE = 8;
  public static final int END_STREAM = 0x1;
  private static final int ACK = 0x1;
  public static final int END_HEADERS = 0x4;

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final Map<Integer, Integer> dataBytes = new HashMap<>();
  private final Set<Integer> ended = new HashSet<>();
  private final Map<Integer, String> statuses = new HashMap<>();
  private final Map<Integer, Long> resets = new HashMap<>();
  private final Map<Integer, Long> windowGranted = new HashMap<>();
  private final Map<Integer, byte[]> headerBlocks = new HashMap<>();
  private final io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder hpack =
      new io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder(false);
  private boolean lenient;
  private Long goAwayError;
  private final java.util.List<Integer> goAwayLastStreams = new java.util.ArrayList<>();
  private boolean closed;
  private boolean settingsReceived;

  /** Connects to 127.0.0.1:port and sends the preface and an empty SETTINGS frame. */
  public RawHttp2Client(int port) throws IOException {
    this(port, new byte[0]);
  }

  /**
   * Connects to 127.0.0.1:port and sends the preface and a SETTINGS frame with this payload (see
   * {@link #setting}).
   */
  public RawHttp2Client(int port, byte[] settings) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(10_000);
    socket.setTcpNoDelay(true); // as HTTP/2 clients do: each frame leaves when sent, not after the last one's ACK
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
    out.write(PREFACE);
    send(SETTINGS, 0, 0, settings);
  }

  /** One setting of a SETTINGS frame's payload (RFC 9113 section 6.5.1). */
  public static byte[] setting(int identifier, long value) {
    return ByteBuffer.allocate(6).putShort((short) identifier).putInt((int) value).array();
  }

  /** Records RST_STREAM, GOAWAY and the end of the connection instead of failing on them. */
  public RawHttp2Client lenient() {
    lenient = true;
    return this;
  }

  /** Sends a GET for the path on the stream (HEADERS with END_STREAM; HPACK literals, no indexing). */
  public void get(int stream, String path) throws IOException {
    send(HEADERS, END_STREAM | END_HEADERS, stream, getBlock(path));
  }

  /** The header block of a GET for the path: static-table method and scheme, literal path and authority. */
  public static byte[] getBlock(String path) {
    byte[] pathBytes = path.getBytes(StandardCharsets.US_ASCII);
    byte[] authority = "localhost".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer block = ByteBuffer.allocate(6 + pathBytes.length + authority.length);
    block.put((byte) 0x82).put((byte) 0x86); // :method GET, :scheme http (static table)
    block.put((byte) 0x04).put((byte) pathBytes.length).put(pathBytes); // :path, literal
    block.put((byte) 0x01).put((byte) authority.length).put(authority); // :authority, literal
    return block.array();
  }

  /** The header block of a POST of {@code contentLength} bytes to the path (its DATA frames are the test's to send). */
  public static byte[] postBlock(String path, long contentLength) {
    byte[] get = getBlock(path);
    get[0] = (byte) 0x83; // :method POST (static table)
    byte[] length = literalIndexed("content-length", Long.toString(contentLength));
    byte[] block = java.util.Arrays.copyOf(get, get.length + length.length);
    System.arraycopy(length, 0, block, get.length, length.length);
    return block;
  }

  /** A header field as an HPACK literal added to the dynamic table (new name; lengths under 2^21). */
  public static byte[] literalIndexed(String name, String value) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0x40);
    for (String s : new String[] {name, value}) {
      byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
      int n = bytes.length;
      if (n < 127) {
        out.write(n);
      } else {
        out.write(127);
        n -= 127;
        while (n >= 128) {
          out.write((n & 127) | 128);
          n >>>= 7;
        }
        out.write(n);
      }
      out.writeBytes(bytes);
    }
    return out.toByteArray();
  }

  /** Sends bytes as they are (a frame cut anywhere, several frames at once). */
  public void sendRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** A frame's bytes: its 9-byte header, then the payload. */
  public static byte[] frame(int type, int flags, int stream, byte[] payload) {
    ByteBuffer frame = ByteBuffer.allocate(9 + payload.length);
    frame.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
    frame.put((byte) type).put((byte) flags).putInt(stream).put(payload);
    return frame.array();
  }

  /** The first header block received on the stream (one frame, no padding or priority), or null. */
  public byte[] headerBlock(int stream) {
    return headerBlocks.get(stream);
  }

  /**
   * The representations a header block is made of (RFC 7541 section 6), in order: {@code "indexed N"}
   * (a field of the static table when N <= 61, else of the dynamic table), {@code "incremental"} (a
   * literal the decoder adds to its dynamic table), {@code "literal"} (without indexing),
   * {@code "never-indexed"} and {@code "table-size N"} (a dynamic table size update).
   */
  public static java.util.List<String> hpackRepresentations(byte[] block) {
    java.util.List<String> kinds = new java.util.ArrayList<>();
    int[] at = {0};
    while (at[0] < block.length) {
      int first = block[at[0]] & 0xff;
      if ((first & 0x80) != 0) {
        kinds.add("indexed " + hpackInteger(block, at, 7));
      } else if ((first & 0xe0) == 0x20) {
        kinds.add("table-size " + hpackInteger(block, at, 5));
      } else {
        boolean incremental = (first & 0x40) != 0;
        kinds.add(incremental ? "incremental" : (first & 0x10) != 0 ? "never-indexed" : "literal");
        if (hpackInteger(block, at, incremental ? 6 : 4) == 0) {
          skipHpackString(block, at); // the name, when not an index
        }
        skipHpackString(block, at);
      }
    }
    return kinds;
  }

  /** Reads an HPACK integer with an N-bit prefix (RFC 7541 section 5.1) at at[0], moving past it. */
  private static long hpackInteger(byte[] block, int[] at, int prefixBits) {
    int max = (1 << prefixBits) - 1;
    long value = block[at[0]++] & max;
    if (value < max) {
      return value;
    }
    int shift = 0;
    int b;
    do {
      b = block[at[0]++] & 0xff;
      value += (long) (b & 0x7f) << shift;
      shift += 7;
    } while ((b & 0x80) != 0);
    return value;
  }

  private static void skipHpackString(byte[] block, int[] at) {
    long length = hpackInteger(block, at, 7); // the Huffman bit is above the 7-bit prefix
    at[0] += (int) length;
  }

  /** The response status on the stream, or null before its HEADERS. */
  public String status(int stream) {
    return statuses.get(stream);
  }

  /** Resets the stream with the error code (such as {@link #CANCEL}). */
  public void reset(int stream, int errorCode) throws IOException {
    send(RST_STREAM, 0, stream, ByteBuffer.allocate(4).putInt(errorCode).array());
  }

  /** The streams the server reset (lenient clients only). */
  public Set<Integer> resetsReceived() {
    return resets.keySet();
  }

  /** The error code of the RST_STREAM received on the stream, or null (lenient clients only). */
  public Long resetError(int stream) {
    return resets.get(stream);
  }

  /** The error code of the GOAWAY received, or null (lenient clients only). */
  public Long goAwayError() {
    return goAwayError;
  }

  /** The last stream id of each GOAWAY received, in order (lenient clients only). */
  public java.util.List<Integer> goAwayLastStreams() {
    return java.util.List.copyOf(goAwayLastStreams);
  }

  /** Whether the server's SETTINGS arrived (and were acknowledged). */
  public boolean settingsReceived() {
    return settingsReceived;
  }

  /** Whether the server closed the connection (lenient clients only). */
  public boolean closed() {
    return closed;
  }

  /** Grants the peer more window on the stream (0: the connection). */
  public void windowUpdate(int stream, int increment) throws IOException {
    send(WINDOW_UPDATE, 0, stream, ByteBuffer.allocate(4).putInt(increment).array());
  }

  /** The window the server granted on the stream (0: the connection) by WINDOW_UPDATE so far. */
  public long windowGranted(int stream) {
    return windowGranted.getOrDefault(stream, 0L);
  }

  /** The DATA payload bytes received on the stream so far. */
  public int dataBytes(int stream) {
    return dataBytes.getOrDefault(stream, 0);
  }

  /** Whether the stream's response has ended (END_STREAM received). */
  public boolean ended(int stream) {
    return ended.contains(stream);
  }

  /**
   * Reads frames until the condition holds (each read waits at most 10 s); a lenient client also
   * stops when the connection closes.
   */
  public void readUntil(Predicate<RawHttp2Client> done) throws IOException {
    while (!done.test(this) && !closed) {
      readFrame();
    }
  }

  /** Reads the frames that have started to arrive, without waiting for more. */
  public void readAvailable() throws IOException {
    while (in.available() > 0) {
      readFrame();
    }
  }

  private void readFrame() throws IOException {
    int first = in.read();
    if (first < 0 && lenient) {
      closed = true;
      return;
    }
    if (first < 0) {
      throw new java.io.EOFException("the server closed the connection");
    }
    int length = first << 16 | in.readUnsignedShort();
    int type = in.readUnsignedByte();
    int flags = in.readUnsignedByte();
    int stream = in.readInt() & 0x7fff_ffff;
    byte[] payload = in.readNBytes(length);
    if (payload.length < length) {
      throw new IOException("the connection closed inside a frame");
    }
    switch (type) {
      case DATA -> {
        dataBytes.merge(stream, length, Integer::sum);
        endIf(flags, stream);
      }
      case HEADERS -> {
        headerBlocks.putIfAbsent(stream, payload);
        decodeStatus(stream, payload);
        endIf(flags, stream);
      }
      case SETTINGS -> {
        if ((flags & ACK) == 0) {
          settingsReceived = true;
          send(SETTINGS, ACK, 0, new byte[0]);
        }
      }
      case PING -> {
        if ((flags & ACK) == 0) {
          send(PING, ACK, 0, payload);
        }
      }
      case RST_STREAM -> {
        if (!lenient) {
          throw new AssertionError("stream " + stream + " was reset");
        }
        resets.put(stream, ByteBuffer.wrap(payload).getInt() & 0xffff_ffffL);
      }
      case GOAWAY -> {
        if (!lenient) {
          throw new AssertionError("GOAWAY from the server");
        }
        goAwayError = ByteBuffer.wrap(payload, 4, 4).getInt() & 0xffff_ffffL;
        goAwayLastStreams.add(ByteBuffer.wrap(payload, 0, 4).getInt() & 0x7fff_ffff);
      }
      case WINDOW_UPDATE -> windowGranted.merge(stream, ByteBuffer.wrap(payload).getInt() & 0x7fff_ffffL, Long::sum);
      default -> { } // the rest need no answer
    }
  }

  /** Decodes a response's header block (one frame, no padding or priority) for its :status. */
  private void decodeStatus(int stream, byte[] block) throws IOException {
    io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(block);
    try {
      CharSequence status = hpack.decodeHeaders(stream, buf).status();
      if (status != null) {
        statuses.putIfAbsent(stream, status.toString());
      }
    } catch (io.netty.handler.codec.http2.Http2Exception e) {
      throw new IOException("the server's header block does not decode", e);
    } finally {
      buf.release();
    }
  }

  private void endIf(int flags, int stream) {
    if ((flags & END_STREAM) != 0) {
      ended.add(stream);
    }
  }

  /** Sends one frame. */
  public void send(int type, int flags, int stream, byte[] payload) throws IOException {
    sendRaw(frame(type, flags, stream, payload));
  }

  /** Closes the client's sending side of the connection (TCP FIN), as a client that leaves does. */
  public void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
