package dev.meridian.proxy.forwarding;

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
 * client sends, flow control above all: it sends the preface, empty SETTINGS, GET requests and the
 * WINDOW_UPDATEs the test asks for (never one of its own), acknowledges SETTINGS and PING, and counts
 * each stream's DATA bytes and whether the stream ended. A GOAWAY or RST_STREAM fails the test.
 */
final class RawHttp2Client implements AutoCloseable {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int RST_STREAM = 3;
  private static final int SETTINGS = 4;
  private static final int PING = 6;
  private static final int GOAWAY = 7;
  private static final int WINDOW_UPDATE = 8;
  private static final int END_STREAM = 0x1;
  private static final int ACK = 0x1;
  private static final int END_HEADERS = 0x4;

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final Map<Integer, Integer> dataBytes = new HashMap<>();
  private final Set<Integer> ended = new HashSet<>();

  /** Connects to 127.0.0.1:port and sends the preface and an empty SETTINGS frame. */
  RawHttp2Client(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
    out.write(PREFACE);
    send(SETTINGS, 0, 0, new byte[0]);
  }

  /** Sends a GET for the path on the stream (HEADERS with END_STREAM; HPACK literals, no indexing). */
  void get(int stream, String path) throws IOException {
    byte[] pathBytes = path.getBytes(StandardCharsets.US_ASCII);
    byte[] authority = "localhost".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer block = ByteBuffer.allocate(6 + pathBytes.length + authority.length);
    block.put((byte) 0x82).put((byte) 0x86); // :method GET, :scheme http (static table)
    block.put((byte) 0x04).put((byte) pathBytes.length).put(pathBytes); // :path, literal
    block.put((byte) 0x01).put((byte) authority.length).put(authority); // :authority, literal
    send(HEADERS, END_STREAM | END_HEADERS, stream, block.array());
  }

  /** Grants the peer more window on the stream (0: the connection). */
  void windowUpdate(int stream, int increment) throws IOException {
    send(WINDOW_UPDATE, 0, stream, ByteBuffer.allocate(4).putInt(increment).array());
  }

  /** The DATA payload bytes received on the stream so far. */
  int dataBytes(int stream) {
    return dataBytes.getOrDefault(stream, 0);
  }

  /** Whether the stream's response has ended (END_STREAM received). */
  boolean ended(int stream) {
    return ended.contains(stream);
  }

  /** Reads frames until the condition holds (each read waits at most 10 s). */
  void readUntil(Predicate<RawHttp2Client> done) throws IOException {
    while (!done.test(this)) {
      readFrame();
    }
  }

  /** Reads the frames that have started to arrive, without waiting for more. */
  void readAvailable() throws IOException {
    while (in.available() > 0) {
      readFrame();
    }
  }

  private void readFrame() throws IOException {
    int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
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
      case HEADERS -> endIf(flags, stream);
      case SETTINGS -> {
        if ((flags & ACK) == 0) {
          send(SETTINGS, ACK, 0, new byte[0]);
        }
      }
      case PING -> {
        if ((flags & ACK) == 0) {
          send(PING, ACK, 0, payload);
        }
      }
      case RST_STREAM -> throw new AssertionError("stream " + stream + " was reset");
      case GOAWAY -> throw new AssertionError("GOAWAY from the server");
      default -> { } // WINDOW_UPDATE and the rest need no answer
    }
  }

  private void endIf(int flags, int stream) {
    if ((flags & END_STREAM) != 0) {
      ended.add(stream);
    }
  }

  private void send(int type, int flags, int stream, byte[] payload) throws IOException {
    ByteBuffer frame = ByteBuffer.allocate(9 + payload.length);
    frame.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
    frame.put((byte) type).put((byte) flags).putInt(stream).put(payload);
    out.write(frame.array());
    out.flush();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
