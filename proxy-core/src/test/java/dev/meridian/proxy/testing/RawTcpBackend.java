package dev.meridian.proxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs a plain TCP server on {@code 127.0.0.1}, port 0, where a test scripts each connection byte for
 * byte on its own thread: chunked responses with trailers, a 101 upgrade, slow or truncated writes.
 *
 * <pre>{@code
 * try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
 *   RawTcpBackend.readHead(socket.getInputStream());
 *   socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".getBytes(US_ASCII));
 * })) { ... }
 * }</pre>
 *
 * <p>The socket is closed when the script returns. It counts accepted connections and every byte
 * read through the sockets' input streams, and keeps what scripts threw in {@link #errors()}.
 */
public final class RawTcpBackend implements AutoCloseable {

  /** Plays one accepted connection; runs on a thread of its own. */
  @FunctionalInterface
  public interface ConnectionScript {
    void handle(Socket socket) throws Exception;
  }

  private final ConnectionScript script;
  private final CountingServerSocket server;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicLong bytesReceived = new AtomicLong();
  private final List<Throwable> errors = new CopyOnWriteArrayList<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private RawTcpBackend(ConnectionScript script) throws IOException {
    this.script = script;
    this.server = new CountingServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  /** Starts a backend on {@code 127.0.0.1}, port 0, playing {@code script} on each connection. */
  public static RawTcpBackend start(ConnectionScript script) throws IOException {
    RawTcpBackend backend = new RawTcpBackend(script);
    Thread acceptor = new Thread(backend::acceptLoop, "raw-tcp-backend-accept-" + backend.port());
    acceptor.setDaemon(true);
    acceptor.start();
    return backend;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        if (!closed) {
          errors.add(e);
        }
        return;
      }
      int id = connections.incrementAndGet();
      open.add(socket);
      Thread worker = new Thread(() -> play(socket), "raw-tcp-backend-" + port() + "-conn-" + id);
      worker.setDaemon(true);
      worker.start();
    }
  }

  private void play(Socket socket) {
    try (socket) {
      script.handle(socket);
    } catch (Throwable t) {
      if (!closed) {
        errors.add(t);
      }
    } finally {
      open.remove(socket);
    }
  }

  /** The bound port. */
  public int port() {
    return server.getLocalPort();
  }

  /** The bound address ({@code 127.0.0.1:port}). */
  public InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port());
  }

  /** The number of connections accepted so far. */
  public int connectionCount() {
    return connections.get();
  }

  /** The number of bytes read so far through all connections' input streams. */
  public long bytesReceived() {
    return bytesReceived.get();
  }

  /** What scripts (and the accept loop) threw, other than while closing. */
  public List<Throwable> errors() {
    return List.copyOf(errors);
  }

  /** Closes the listening socket and every open connection. */
  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    for (Socket socket : open) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  /**
   * Reads one request or response head, up to and including the blank line, as ISO-8859-1 text.
   *
   * @throws EOFException if the stream ends first
   */
  public static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("stream ended after " + head.size() + " bytes of a head: " + head);
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  /** Hands out sockets whose input streams count the bytes read into {@link #bytesReceived}. */
  private final class CountingServerSocket extends ServerSocket {
    CountingServerSocket() throws IOException {
      super();
    }

    @Override
    public Socket accept() throws IOException {
      Socket socket = new CountingSocket();
      implAccept(socket);
      return socket;
    }
  }

  private final class CountingSocket extends Socket {
    private InputStream counted;

    @Override
    public synchronized InputStream getInputStream() throws IOException {
      if (counted == null) {
        counted = new FilterInputStream(super.getInputStream()) {
          @Override
          public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
              bytesReceived.incrementAndGet();
            }
            return b;
          }

          @Override
          public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) {
              bytesReceived.addAndGet(n);
            }
            return n;
          }
        };
      }
      return counted;
    }
  }
}
