package dev.meridian.proxy.cli;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.demo.SimulatedRegionBackend;
import dev.meridian.proxy.drill.LoadGenerator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meridian demo}: the embedded default. Starts three simulated regions in-process (two app
 * servers each, with different added latencies), Meridian in front of them choosing by peak EWMA with
 * region failover, and a small client load from each region so the dashboard moves; prints what to
 * try, and runs until Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Start three simulated regions, Meridian in front of them, and a small client load from each region.")
final class DemoCommand implements Callable<Integer> {
  /** A simulated app server: its id, region and added latency. */
  private record DemoBackend(String id, String region, long latencyMs) {}

  /** The simulated regions, their app servers and the latencies they add. */
  private static final List<DemoBackend> BACKENDS = List.of(
      new DemoBackend("us-east-1", "us-east", 5), new DemoBackend("us-east-2", "us-east", 30),
      new DemoBackend("eu-west-1", "eu-west", 40), new DemoBackend("eu-west-2", "eu-west", 60),
      new DemoBackend("ap-south-1", "ap-south", 120), new DemoBackend("ap-south-2", "ap-south", 150));
  /** The client load from each region, requests per second. */
  private static final Map<String, Double> LOAD = new LinkedHashMap<>();

  static {
    LOAD.put("us-east", 20.0);
    LOAD.put("eu-west", 12.0);
    LOAD.put("ap-south", 8.0);
  }

  static final String CLIENT_REGION_HEADER = "X-Client-Region";

  @Option(names = "--port", defaultValue = "8080", description = "proxy port on 127.0.0.1 (default: ${DEFAULT-VALUE})")
  int port;

  @Option(names = "--admin-port", defaultValue = "9901", description = "admin port (dashboard) on 127.0.0.1 (default: ${DEFAULT-VALUE})")
  int adminPort;

  @Option(names = "--tls-port", defaultValue = "8443",
      description = "HTTPS port on 127.0.0.1, self-signed certificate made at start (default: ${DEFAULT-VALUE})")
  int tlsPort;

  @Option(names = "--no-load", description = "do not send the built-in client load")
  boolean noLoad;

  @Override
  public Integer call() throws Exception {
    ShutdownSignal signal = ShutdownSignal.install();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("demo-backends"),
        NioIoHandler.newFactory());
    List<SimulatedRegionBackend> backends = new ArrayList<>();
    List<LoadGenerator> load = new ArrayList<>();
    try {
      List<InetSocketAddress> addresses = new ArrayList<>();
      for (DemoBackend b : BACKENDS) {
        SimulatedRegionBackend backend = new SimulatedRegionBackend(b.region(), Duration.ofMillis(b.latencyMs()), group);
        backends.add(backend);
        addresses.add(backend.start("127.0.0.1", 0));
      }
      Path certDir = Files.createTempDirectory("meridian-demo-tls");
      CertificatePair cert = SelfSignedCertificates.generate(certDir, "localhost", "127.0.0.1");
      try (MeridianInstance instance =
          new MeridianInstance(SettingsLoader.parse(demoConfig(addresses, cert), "demo")).start()) {
        if (!noLoad) {
          URI target = URI.create("http://127.0.0.1:" + instance.listenerAddresses().get(0).getPort() + "/");
          LOAD.forEach((region, rate) -> {
            LoadGenerator clients = new LoadGenerator(target, rate, 4, Map.of(CLIENT_REGION_HEADER, region),
                Duration.ofSeconds(5), false);
            clients.start();
            load.add(clients);
          });
        }
        printWelcome(instance);
        signal.await();
        System.out.println("\nmeridian demo: stopping");
        load.forEach(LoadGenerator::close);
        instance.stop(Duration.ofSeconds(5));
      }
      return 0;
    } finally {
      load.forEach(LoadGenerator::close);
      backends.forEach(SimulatedRegionBackend::close);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  private String demoConfig(List<InetSocketAddress> addresses, CertificatePair cert) {
    StringBuilder backends = new StringBuilder();
    for (int i = 0; i < BACKENDS.size(); i++) {
      DemoBackend b = BACKENDS.get(i);
      backends.append(String.format("      { id = \"%s\", address = \"127.0.0.1:%d\", region = \"%s\" }%n",
          b.id(), addresses.get(i).getPort(), b.region()));
    }
    return "meridian {\n"
        + "  region = \"us-east\"\n"
        + "  listeners = [ { name = \"demo\", address = \"127.0.0.1:" + port + "\" }\n"
        + "    { name = \"demo-tls\", address = \"127.0.0.1:" + tlsPort + "\", tls { certificates = [ { cert = \""
        + cert.cert() + "\", key = \"" + cert.key() + "\" } ] } } ]\n"
        + "  admin { address = \"127.0.0.1:" + adminPort + "\" }\n"
        + "  server { drain-timeout = 5s }\n"
        + "  debug-headers = true\n"
        + "  geo { client-region-header = \"" + CLIENT_REGION_HEADER + "\", trusted-proxies = [ \"127.0.0.1/32\", \"::1/128\" ] }\n"
        + "  backend-groups { regions { strategy = \"peak-ewma\", ewma-decay = 5s,\n"
        + "    health { active { path = \"/healthz\", interval = 1s } }\n"
        + "    backends = [\n" + backends + "  ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"regions\" } ]\n"
        + "}\n";
  }

  private void printWelcome(MeridianInstance instance) {
    InetSocketAddress proxy = instance.listenerAddresses().get(0);
    InetSocketAddress admin = instance.adminAddress();
    String base = "http://127.0.0.1:" + proxy.getPort();
    String adminBase = "http://127.0.0.1:" + admin.getPort();
    StringBuilder sb = new StringBuilder();
    sb.append("\nMeridian demo is running (").append(instance.proxy().transport().configName())
        .append(" transport).\n\n");
    sb.append("  dashboard ").append(adminBase).append("/\n");
    sb.append("  proxy     ").append(base).append("/\n");
    sb.append("  https     https://127.0.0.1:").append(instance.listenerAddresses().get(1).getPort())
        .append("/   (self-signed; HTTP/2 via ALPN)\n");
    sb.append("  metrics   ").append(adminBase).append("/metrics\n\n");
    sb.append("Three simulated regions, two app servers each (added latency):\n");
    for (String region : LOAD.keySet()) {
      sb.append(String.format("  %-9s", region));
      BACKENDS.stream().filter(b -> b.region().equals(region))
          .forEach(b -> sb.append(String.format("  %s %dms", b.id(), b.latencyMs())));
      sb.append('\n');
    }
    sb.append("Strategy: peak EWMA inside a region; each client region is served by its own region first,\n")
        .append("then the others by measured latency. This instance runs in us-east.\n");
    if (noLoad) {
      sb.append("No client load (--no-load): the dashboard moves when you send requests.\n");
    } else {
      sb.append("Client load: ");
      LOAD.forEach((region, rate) -> sb.append(String.format("%s %.0f/s  ", region, rate)));
      sb.append("(GETs carrying ").append(CLIENT_REGION_HEADER).append(")\n");
    }
    sb.append("\nThree things to try:\n");
    sb.append("  1. Latency steering: open the dashboard; inside each region peak EWMA sends most requests to\n")
        .append("     the faster server. Or ask yourself and read X-Meridian-Backend / X-Meridian-Decision:\n")
        .append("       curl -si ").append(base).append("/ -H '").append(CLIENT_REGION_HEADER).append(": eu-west' | grep -i x-meridian\n");
    sb.append("  2. Dial a region to 0 and watch its share move to the next region (press \"dial 0%\" on its card):\n")
        .append("       curl -X POST '").append(adminBase).append("/admin/api/regions/regions/eu-west/dial?percent=0'\n")
        .append("       curl -X POST '").append(adminBase).append("/admin/api/regions/regions/eu-west/dial?percent=100'\n");
    sb.append("  3. Rehearse a region failure and get a report (errors, time to shift, p99):\n")
        .append("       java -jar meridian.jar drill --admin ").append(adminBase)
        .append(" --group regions --region eu-west --action eject --hold 10s --slo errors=0\n");
    sb.append("\nPress Ctrl-C to stop.\n");
    System.out.print(sb);
    System.out.flush();
  }
}
