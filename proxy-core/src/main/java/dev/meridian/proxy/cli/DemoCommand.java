package dev.meridian.proxy.cli;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.demo.SimulatedRegionBackend;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meridian demo}: the embedded default. Starts three simulated regional backends in-process
 * and the proxy in front of them, prints what to try, and runs until Ctrl-C.
 */
@Command(name = "demo", description = "Start three simulated regional backends and Meridian in front of them.")
final class DemoCommand implements Callable<Integer> {
  /** The simulated regions and their added latencies. */
  private static final String[] REGIONS = {"us-east", "eu-west", "ap-south"};
  private static final long[] LATENCY_MS = {5, 40, 120};

  @Option(names = "--port", defaultValue = "8080", description = "proxy port on 127.0.0.1 (default: ${DEFAULT-VALUE})")
  int port;

  @Option(names = "--admin-port", defaultValue = "9901", description = "admin port on 127.0.0.1 (default: ${DEFAULT-VALUE})")
  int adminPort;

  @Option(names = "--tls-port", defaultValue = "8443",
      description = "HTTPS port on 127.0.0.1, self-signed certificate made at start (default: ${DEFAULT-VALUE})")
  int tlsPort;

  @Override
  public Integer call() throws Exception {
    ShutdownSignal signal = ShutdownSignal.install();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("demo-backends"),
        NioIoHandler.newFactory());
    List<SimulatedRegionBackend> backends = new ArrayList<>();
    try {
      List<InetSocketAddress> addresses = new ArrayList<>();
      for (int i = 0; i < REGIONS.length; i++) {
        SimulatedRegionBackend backend =
            new SimulatedRegionBackend(REGIONS[i], Duration.ofMillis(LATENCY_MS[i]), group);
        backends.add(backend);
        addresses.add(backend.start("127.0.0.1", 0));
      }
      Path certDir = Files.createTempDirectory("meridian-demo-tls");
      CertificatePair cert = SelfSignedCertificates.generate(certDir, "localhost", "127.0.0.1");
      try (MeridianInstance instance =
          new MeridianInstance(SettingsLoader.parse(demoConfig(addresses, cert), "demo")).start()) {
        printWelcome(instance, addresses);
        signal.await();
        System.out.println("\nmeridian demo: stopping");
        instance.stop(Duration.ofSeconds(5));
      }
      return 0;
    } finally {
      backends.forEach(SimulatedRegionBackend::close);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  private String demoConfig(List<InetSocketAddress> addresses, CertificatePair cert) {
    StringBuilder backends = new StringBuilder();
    for (int i = 0; i < REGIONS.length; i++) {
      backends.append(String.format("      { id = \"%s-1\", address = \"127.0.0.1:%d\", region = \"%s\" }%n",
          REGIONS[i], addresses.get(i).getPort(), REGIONS[i]));
    }
    return "meridian {\n"
        + "  region = \"us-east\"\n"
        + "  listeners = [ { name = \"demo\", address = \"127.0.0.1:" + port + "\" }\n"
        + "    { name = \"demo-tls\", address = \"127.0.0.1:" + tlsPort + "\", tls { certificates = [ { cert = \""
        + cert.cert() + "\", key = \"" + cert.key() + "\" } ] } } ]\n"
        + "  admin { address = \"127.0.0.1:" + adminPort + "\" }\n"
        + "  server { drain-timeout = 5s }\n"
        + "  backend-groups { regions { strategy = \"round-robin\", backends = [\n" + backends + "  ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"regions\" } ]\n"
        + "}\n";
  }

  private void printWelcome(MeridianInstance instance, List<InetSocketAddress> addresses) {
    InetSocketAddress proxy = instance.listenerAddresses().get(0);
    InetSocketAddress admin = instance.adminAddress();
    String base = "http://127.0.0.1:" + proxy.getPort();
    String adminBase = "http://127.0.0.1:" + admin.getPort();
    StringBuilder sb = new StringBuilder();
    sb.append("\nMeridian demo is running (").append(instance.proxy().transport().configName())
        .append(" transport).\n\n");
    sb.append("  proxy   ").append(base).append("/\n");
    sb.append("  https   https://127.0.0.1:").append(instance.listenerAddresses().get(1).getPort())
        .append("/   (self-signed; HTTP/2 via ALPN)\n");
    sb.append("  admin   ").append(adminBase).append("/admin/api/backends   metrics: ")
        .append(adminBase).append("/metrics\n\n");
    sb.append("Simulated regional backends (round robin for now):\n");
    for (int i = 0; i < REGIONS.length; i++) {
      sb.append(String.format("  %-9s 127.0.0.1:%-6d added latency %dms%n", REGIONS[i],
          addresses.get(i).getPort(), LATENCY_MS[i]));
    }
    sb.append("\nTry:\n");
    sb.append("  for i in 1 2 3; do curl -s ").append(base).append("/; done    # each region answers in turn\n");
    sb.append("  curl -si ").append(base).append("/ -H 'X-Request-Id: demo-1'   # headers: Via, X-Request-Id echoed\n");
    sb.append("  curl -sk --http2 https://127.0.0.1:").append(instance.listenerAddresses().get(1).getPort())
        .append("/ -o /dev/null -w '%{http_version}\\n'   # 2: TLS + ALPN h2\n");
    sb.append("  curl -s --http2-prior-knowledge ").append(base).append("/   # cleartext HTTP/2\n");
    sb.append("  curl -s ").append(adminBase).append("/admin/api/backends\n");
    sb.append("  curl -s ").append(adminBase).append("/metrics | grep meridian_requests\n");
    sb.append("\nWatch: the region in each body, and meridian_requests_total growing per route.\n");
    sb.append("Press Ctrl-C to stop.\n");
    System.out.print(sb);
    System.out.flush();
  }
}
