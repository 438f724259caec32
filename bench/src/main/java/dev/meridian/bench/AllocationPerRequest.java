package dev.meridian.bench;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.cli.MeridianCli;
import dev.meridian.proxy.config.SettingsLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measures the bytes Meridian's event loop allocates, and the CPU time it uses, per proxied HTTP/1.1
 * request, end to end over
 * real sockets on 127.0.0.1: a small keep-alive GET answered by a backend with a 100-byte body. The
 * backend and the client run on threads of their own (plain blocking sockets), so only the proxy's
 * allocation and CPU are counted: {@code ThreadMXBean.getThreadAllocatedBytes} and
 * {@code getThreadCpuTime} of the {@code meridian-io} threads over a fixed request count, after a
 * warm-up, with Netty's leak detector sampled as the jar samples it. Unlike throughput on a shared machine, the figures repeat run to run (CPU time within a
 * few percent).
 *
 * <p>Run: {@code mvn -q -DskipTests package && java -cp bench/target/benchmarks.jar
 * dev.meridian.bench.AllocationPerRequest [requests] [connections]} (defaults 200000 and 8). Settings
 * given as {@code -Dprobe.settings="tracing.enabled = false"} go inside {@code meridian { }}, to
 * measure what a feature allocates.
 */
public final class AllocationPerRequest {
  private static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
      + "x".repeat(99) + "\n").getBytes(StandardCharsets.US_ASCII);

  private AllocationPerRequest() {}

  public static void main(String[] args) throws Exception {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int connections = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    // Netty's leak detector samples buffers as the jar's launcher has it, or the probe would count
    // the stack traces of Netty's default sampling, which the jar does not take.
    if (System.getProperty("io.netty.leakDetection.samplingInterval") == null) {
      System.setProperty("io.netty.leakDetection.samplingInterval", MeridianCli.LEAK_SAMPLING_INTERVAL);
    }
    try (ServerSocket backend = new ServerSocket()) {
      backend.bind(new InetSocketAddress("127.0.0.1", 0));
      startBackend(backend);
      String hocon = "meridian {\n"
          + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
          + "  admin { enabled = false }\n"
          + "  server { event-loop-threads = 1 }\n"
          + "  backend-groups { static { backends = [ { address = \"127.0.0.1:" + backend.getLocalPort() + "\" } ] } }\n"
          + "  routes = [ { backend-group = \"static\" } ]\n"
          + System.getProperty("probe.settings", "") + "\n"
          + "}\n";
      MeridianInstance proxy = new MeridianInstance(SettingsLoader.parse(hocon, "allocation-probe")).start();
      try {
        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
          clients.add(new Client(proxy.listenerAddresses().get(0)));
        }
        run(clients, requests / 2);
        long before = ioThreads(true);
        long cpuBefore = ioThreads(false);
        long start = System.nanoTime();
        run(clients, requests);
        long after = ioThreads(true);
        long cpuAfter = ioThreads(false);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "%d requests over %d connections: %.0f bytes allocated and %.1f us of CPU"
            + " per request on the event loop (%.0f req/s, closed loop, one client thread)%n", requests, connections,
            (after - before) / (double) requests, (cpuAfter - cpuBefore) / 1000.0 / requests, requests / seconds);
        for (Client c : clients) {
          c.close();
        }
      } finally {
        proxy.stop(Duration.ZERO);
      }
    }
  }

  private static void run(List<Client> clients, int requests) throws IOException {
    for (int i = 0; i < requests; i++) {
      clients.get(i % clients.size()).exchange();
    }
  }

  /** Bytes allocated (or, with {@code allocated} false, CPU nanoseconds used) by the meridian-io threads so far. */
  private static long ioThreads(boolean allocated) {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long total = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("meridian-io")) {
        total += allocated ? threads.getThreadAllocatedBytes(t.getId()) : threads.getThreadCpuTime(t.getId());
      }
    }
    return total;
  }

  /** A backend on its own threads: reads each request head and answers the fixed response. */
  private static void startBackend(ServerSocket server) {
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          s.setTcpNoDelay(true);
          Thread t = new Thread(() -> serve(s), "probe-backend");
          t.setDaemon(true);
          t.start();
        } catch (IOException closed) {
          return;
        }
      }
    }, "probe-backend-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static void serve(Socket s) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      byte[] buf = new byte[16384];
      int matched = 0;
      while (true) {
        int n = in.read(buf);
        if (n < 0) {
          return;
        }
        for (int i = 0; i < n; i++) {
          matched = endOfHead(matched, buf[i]);
          if (matched == 4) {
            out.write(RESPONSE);
            matched = 0;
          }
        }
        out.flush();
      }
    } catch (IOException e) {
      // connection gone
    }
  }

  /** Advances a match of CRLFCRLF by one byte; 4 means a head ended. */
  private static int endOfHead(int matched, byte b) {
    if (b == '\r') {
      return matched == 2 ? 3 : 1;
    }
    if (b == '\n') {
      return matched == 1 ? 2 : matched == 3 ? 4 : 0;
    }
    return 0;
  }

  /** One keep-alive client connection sending a GET and reading its whole response. */
  private static final class Client implements AutoCloseable {
    private static final byte[] REQUEST = "GET /hello HTTP/1.1\r\nHost: probe\r\nUser-Agent: probe\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII);
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] buf = new byte[65536];

    Client(InetSocketAddress address) throws IOException {
      socket = new Socket(address.getAddress(), address.getPort());
      socket.setTcpNoDelay(true);
      in = socket.getInputStream();
      out = socket.getOutputStream();
    }

    /** Sends one GET and reads until the 100-byte body has arrived. */
    void exchange() throws IOException {
      out.write(REQUEST);
      out.flush();
      int have = 0;
      int headEnd = -1;
      int length = -1;
      while (true) {
        int n = in.read(buf, have, buf.length - have);
        if (n < 0) {
          throw new IOException("the proxy closed the connection");
        }
        have += n;
        if (headEnd < 0) {
          String text = new String(buf, 0, have, StandardCharsets.ISO_8859_1);
          int end = text.indexOf("\r\n\r\n");
          if (end >= 0) {
            headEnd = end + 4;
            int at = text.toLowerCase(Locale.ROOT).indexOf("content-length:");
            length = Integer.parseInt(text.substring(at + 15, text.indexOf("\r\n", at)).trim());
          }
        }
        if (headEnd >= 0 && have >= headEnd + length) {
          return;
        }
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
