package dev.meridian.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A port another process holds: {@code meridian run} exits 1 with one line naming the listener and
 * the address, not a stack trace.
 */
class PortInUseTest {
  @TempDir Path dir;

  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream originalErr;

  @BeforeEach
  void captureErr() {
    originalErr = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreErr() {
    System.setErr(originalErr);
  }

  @Test
  void aTakenListenerPortIsOneLineAndExitOne() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Path file = Files.writeString(dir.resolve("m.conf"), """
          meridian {
            listeners = [ { name = "web", address = "127.0.0.1:%d" } ]
            admin { enabled = false }
            backend-groups { app { backends = [ { address = "127.0.0.1:9" } ] } }
            routes = [ { name = "all", path-prefix = "/", backend-group = "app" } ]
          }
          """.formatted(taken.getLocalPort()));

      int exit = MeridianCli.execute("run", "-c", file.toString());

      String printed = err.toString(StandardCharsets.UTF_8);
      assertThat(exit).as(printed).isEqualTo(1);
      assertThat(printed).contains("meridian: listener 'web': cannot listen on /127.0.0.1:" + taken.getLocalPort()
          + ": address already in use").doesNotContain("\tat ");
    }
  }

  @Test
  void aTakenAdminPortSaysSoToo() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Path file = Files.writeString(dir.resolve("m.conf"), """
          meridian {
            listeners = [ { name = "web", address = "127.0.0.1:0" } ]
            admin { address = "127.0.0.1:%d" }
            backend-groups { app { backends = [ { address = "127.0.0.1:9" } ] } }
            routes = [ { name = "all", path-prefix = "/", backend-group = "app" } ]
          }
          """.formatted(taken.getLocalPort()));

      int exit = MeridianCli.execute("run", "-c", file.toString());

      String printed = err.toString(StandardCharsets.UTF_8);
      assertThat(exit).as(printed).isEqualTo(1);
      assertThat(printed).contains("meridian: admin listener: cannot listen on 127.0.0.1:" + taken.getLocalPort());
    }
  }
}
