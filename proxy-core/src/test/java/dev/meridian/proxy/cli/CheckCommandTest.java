package dev.meridian.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meridian check -c FILE}, run in-process: exit 0 for a valid file, 1 naming file, line and key otherwise. */
class CheckCommandTest {
  private static final String VALID = """
      meridian {
        listeners = [ { name = "web", address = "127.0.0.1:8080" } ]
        backend-groups { app { backends = [ { address = "127.0.0.1:9001" } ] } }
        routes = [ { name = "all", path-prefix = "/", backend-group = "app" } ]
      }
      """;

  @TempDir Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream originalOut;
  private PrintStream originalErr;

  @BeforeEach
  void captureOutput() {
    originalOut = System.out;
    originalErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreOutput() {
    System.setOut(originalOut);
    System.setErr(originalErr);
  }

  @Test
  void validFileExitsZero() throws Exception {
    Path file = Files.writeString(dir.resolve("valid.conf"), VALID);

    int exit = MeridianCli.execute("check", "-c", file.toString());

    assertThat(exit).as("exit code; stderr: %s", err).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains(file + ": OK (1 listener(s), 1 backend group(s), 1 route(s))");
  }

  @Test
  void invalidFileExitsOneNamingFileLineAndKey() throws Exception {
    Path file = Files.writeString(dir.resolve("invalid.conf"), """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:8080" } ]
          timeouts { conect = 2s }
          backend-groups { app { backends = [ { address = "127.0.0.1:9001" } ] } }
          routes = [ { name = "all", path-prefix = "no-slash", backend-group = "app" } ]
        }
        """);

    int exit = MeridianCli.execute("check", "-c", file.toString());

    String errors = err.toString(StandardCharsets.UTF_8);
    assertThat(exit).as("exit code; stderr: %s", errors).isEqualTo(1);
    assertThat(errors)
        .as("every problem as file: line: key")
        .contains(file + ": 3: meridian.timeouts.conect: ")
        .contains(file + ": 5: meridian.routes[0].path-prefix: ")
        .contains(file + ": 2 problem(s); nothing was started");
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("OK");
  }

  @Test
  void missingFileExitsOne() {
    Path file = dir.resolve("absent.conf");

    int exit = MeridianCli.execute("check", "-c", file.toString());

    assertThat(exit).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains(file.toString());
  }
}
