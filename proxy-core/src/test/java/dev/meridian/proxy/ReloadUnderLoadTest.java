package dev.meridian.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.demo.SimulatedRegionBackend;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ten reloads in a row under load, alternating two configurations that differ in routes and backend
 * groups, a listener, limits, timeouts and the Via header, with a broken file in the middle: h2load
 * (HTTP/2 with prior knowledge) and HTTP/1.1 clients run through one instance the whole time and not
 * one request fails; each reload is seen in force (Via, the backend that answers, the extra listener),
 * and the broken file is refused and changes nothing. Reloads go through the three ways an operator has:
 * {@code POST /admin/api/reload}, SIGHUP's path ({@link ConfigReloader#reloadSoon()}) and the file
 * watch's ({@link ConfigReloader#checkNow()}).
 */
class ReloadUnderLoadTest {
  private static final org.slf4j.Logger REPORT = org.slf4j.LoggerFactory.getLogger(ReloadUnderLoadTest.class);
  private static final int RELOADS = 10;
  private static final int HTTP1_CLIENTS = 3;
  private static final Pattern H2LOAD_REQUESTS = Pattern.compile(
      "requests: (\\d+) total, \\d+ started, \\d+ done, (\\d+) succeeded, (\\d+) failed, (\\d+) errored");
  private static final Pattern H2LOAD_STATUS = Pattern.compile("status codes: (\\d+) 2xx");

  /** One of the two configurations, or the broken file. */
  private enum Config { A, B }

  private static String config(Config which, int alphaPort, int betaPort) {
    boolean b = which == Config.B;
    return "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" }"
        + (b ? ", { name = \"extra\", address = \"127.0.0.1:0\" }" : "") + " ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  headers { via = \"meridian-" + (b ? "b" : "a") + "\" }\n"
        + "  limits { max-header-count = " + (b ? 90 : 100) + " }\n"
        + "  timeouts { response-headers = " + (b ? "20s" : "30s") + " }\n"
        + "  backend-groups {\n"
        + (b ? "    beta { backends = [ { address = \"127.0.0.1:" + betaPort + "\" } ] }\n"
             : "    alpha { backends = [ { address = \"127.0.0.1:" + alphaPort + "\" } ] }\n")
        + "  }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"" + (b ? "beta" : "alpha") + "\" } ]\n"
        + "}\n";
  }

  private static String body(String region) {
    return "hello from " + region + " (added latency 0ms)\n";
  }

  @Test
  void tenReloadsUnderHttp2AndHttp1LoadLoseNoRequest(@TempDir Path dir) throws Exception {
    assumeTrue(installed("h2load"), "h2load (nghttp2-client) is installed by .ci/run");
    EventLoopGroup backendLoops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    ExecutorService load = Executors.newFixedThreadPool(HTTP1_CLIENTS + 1);
    AtomicBoolean stop = new AtomicBoolean();
    Path file = dir.resolve("meridian.conf");
    try (SimulatedRegionBackend alpha = new SimulatedRegionBackend("alpha", Duration.ZERO, backendLoops);
        SimulatedRegionBackend beta = new SimulatedRegionBackend("beta", Duration.ZERO, backendLoops)) {
      int alphaPort = alpha.start("127.0.0.1", 0).getPort();
      int betaPort = beta.start("127.0.0.1", 0).getPort();
      Files.writeString(file, config(Config.A, alphaPort, betaPort));
      MeridianInstance instance = new MeridianInstance(SettingsLoader.load(file));
      ConfigReloader reloader = new ConfigReloader(file, instance);
      instance.reloadFrom(reloader);
      instance.start();
      InetSocketAddress web = instance.listenersByName().get("web");
      URI url = URI.create("http://127.0.0.1:" + web.getPort() + "/");
      H2Load h2 = new H2Load(url.toString(), stop);
      try {
        Http1Load http1 = new Http1Load(url, stop);
        List<Future<?>> clients = new ArrayList<>();
        for (int i = 0; i < HTTP1_CLIENTS; i++) {
          clients.add(load.submit(http1::run));
        }
        Future<?> h2Runs = load.submit(h2::run);
        Probe probe = new Probe(url, instance);
        probe.expect(Config.A);

        Config inForce = Config.A;
        for (int i = 1; i <= RELOADS; i++) {
          awaitTraffic(http1, h2);
          if (i == RELOADS / 2 + 1) {
            Files.writeString(file, config(Config.A, alphaPort, betaPort).replace("path-prefix", "path-prefx"));
            HttpResponse<String> refused = probe.adminReload();
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
            assertThat(refused.body()).contains("path-prefx");
            probe.expect(inForce);
            awaitTraffic(http1, h2);
          }
          Config next = inForce == Config.A ? Config.B : Config.A;
          Files.writeString(file, config(next, alphaPort, betaPort));
          switch (i % 3) {
            case 0 -> {
              HttpResponse<String> applied = probe.adminReload();
              assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
            }
            case 1 -> reloader.reloadSoon(); // what SIGHUP does
            default -> assertThat(reloader.checkNow()).isTrue(); // what the file watch does
          }
          Config expected = next;
          await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> probe.expect(expected));
          inForce = next;
        }
        awaitTraffic(http1, h2);
        stop.set(true);
        for (Future<?> client : clients) {
          client.get(30, TimeUnit.SECONDS);
        }
        h2Runs.get(30, TimeUnit.SECONDS);
        REPORT.info("{} reloads (and 1 refused): HTTP/1.1 {} requests ({} from alpha, {} from beta), {} failed;"
            + " h2load {} runs, {} requests succeeded, {} runs with failures", RELOADS, http1.ok.get(),
            http1.fromAlpha.get(), http1.fromBeta.get(), http1.failures.size(), h2.runs.get(), h2.succeeded.get(),
            h2.problems.size());

        assertThat(http1.failures).as("HTTP/1.1 requests that failed").isEmpty();
        assertThat(http1.sawBoth()).as("HTTP/1.1 answers from both configurations").isTrue();
        assertThat(h2.problems).as("h2load runs with a failed request").isEmpty();
        assertThat(h2.runs.get()).isGreaterThan(RELOADS);
        assertThat(h2.succeeded.get()).isGreaterThan(0);
      } finally {
        stop.set(true);
        h2.destroy();
        load.shutdownNow();
        reloader.close();
        instance.stop(Duration.ZERO);
      }
    } finally {
      backendLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  /** Waits until both loads made progress since now: each reload happens with requests flowing. */
  private static void awaitTraffic(Http1Load http1, H2Load h2) {
    long http1Mark = http1.ok.get() + 100;
    long h2Mark = h2.runs.get() + 1;
    await().atMost(Duration.ofSeconds(20)).until(() -> http1.ok.get() >= http1Mark && h2.runs.get() >= h2Mark
        || !http1.failures.isEmpty() || !h2.problems.isEmpty());
  }

  /** Requests from the test itself: what is in force (Via, backend, the extra listener), and the admin API. */
  private static final class Probe {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final URI url;
    private final MeridianInstance instance;

    Probe(URI url, MeridianInstance instance) {
      this.url = url;
      this.instance = instance;
    }

    void expect(Config config) throws Exception {
      HttpResponse<String> response = client.send(HttpRequest.newBuilder(url).build(),
          HttpResponse.BodyHandlers.ofString());
      boolean b = config == Config.B;
      assertThat(response.headers().firstValue("via")).hasValue(b ? "1.1 meridian-b" : "1.1 meridian-a");
      assertThat(response.body()).isEqualTo(body(b ? "beta" : "alpha"));
      assertThat(instance.listenersByName().containsKey("extra")).isEqualTo(b);
      assertThat(instance.proxy().settings().limits().maxHeaderCount()).isEqualTo(b ? 90 : 100);
      if (b) {
        URI extra = URI.create("http://127.0.0.1:" + instance.listenersByName().get("extra").getPort() + "/");
        assertThat(client.send(HttpRequest.newBuilder(extra).build(), HttpResponse.BodyHandlers.ofString()).body())
            .isEqualTo(body("beta"));
      }
    }

    HttpResponse<String> adminReload() throws IOException, InterruptedException {
      URI admin = URI.create("http://127.0.0.1:" + instance.adminAddress().getPort() + "/admin/api/reload");
      return client.send(HttpRequest.newBuilder(admin).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  /** HTTP/1.1 clients in a loop: every answer must be a 200 with one configuration's whole body. */
  private static final class Http1Load {
    private final URI url;
    private final AtomicBoolean stop;
    final AtomicLong ok = new AtomicLong();
    final AtomicLong fromAlpha = new AtomicLong();
    final AtomicLong fromBeta = new AtomicLong();
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

    Http1Load(URI url, AtomicBoolean stop) {
      this.url = url;
      this.stop = stop;
    }

    void run() {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpRequest request = HttpRequest.newBuilder(url).build();
      while (!stop.get()) {
        try {
          HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
          String via = response.headers().firstValue("via").orElse("");
          if (response.statusCode() == 200 && response.body().equals(body("alpha")) && via.equals("1.1 meridian-a")) {
            fromAlpha.incrementAndGet();
          } else if (response.statusCode() == 200 && response.body().equals(body("beta"))
              && via.equals("1.1 meridian-b")) {
            fromBeta.incrementAndGet();
          } else {
            failures.add(response.statusCode() + " via '" + via + "': " + response.body());
            continue;
          }
          ok.incrementAndGet();
        } catch (IOException e) {
          failures.add(e.toString());
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    boolean sawBoth() {
      return fromAlpha.get() > 0 && fromBeta.get() > 0;
    }
  }

  /** h2load runs one after another (h2c, 600 requests on 2 connections, 10 streams each), every request counted. */
  private static final class H2Load {
    private final String url;
    private final AtomicBoolean stop;
    final AtomicLong runs = new AtomicLong();
    final AtomicLong succeeded = new AtomicLong();
    final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    /** The h2load process running now, if any. */
    private volatile Process running;

    H2Load(String url, AtomicBoolean stop) {
      this.url = url;
      this.stop = stop;
    }

    void run() {
      while (!stop.get()) {
        try {
          String report = runOnce();
          if (report == null) {
            return; // stopped as the run started: it was ended, not measured
          }
          Matcher requests = H2LOAD_REQUESTS.matcher(report);
          Matcher status = H2LOAD_STATUS.matcher(report);
          if (!requests.find() || !status.find()) {
            problems.add("no h2load report: " + report);
            continue;
          }
          long total = Long.parseLong(requests.group(1));
          long ok = Long.parseLong(requests.group(2));
          if (ok != total || Long.parseLong(requests.group(3)) != 0 || Long.parseLong(requests.group(4)) != 0
              || Long.parseLong(status.group(1)) != total) {
            problems.add(report);
          }
          succeeded.addAndGet(ok);
          runs.incrementAndGet();
        } catch (IOException e) {
          if (!stop.get()) {
            problems.add(e.toString()); // once stopped, destroy() closed the streams being read
          }
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    /** Ends the run in progress (the test failed: no report is read). */
    void destroy() {
      Process process = running;
      if (process != null) {
        process.destroy();
      }
    }

    /** Runs h2load once and returns its report, or null when the test stopped as it started. */
    private String runOnce() throws IOException, InterruptedException {
      Process process = new ProcessBuilder("h2load", "-n", "600", "-c", "2", "-m", "10", url)
          .redirectErrorStream(true).start();
      running = process;
      if (stop.get()) {
        process.destroy(); // the test ended (or failed) while it started
        return null;
      }
      byte[] out = process.getInputStream().readAllBytes();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      return new String(out, StandardCharsets.UTF_8);
    }
  }

  private static boolean installed(String tool) {
    try {
      return new ProcessBuilder(tool, "--version").start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
