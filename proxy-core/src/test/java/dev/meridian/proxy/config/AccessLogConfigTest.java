package dev.meridian.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.meridian.proxy.accesslog.AccessLogSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code meridian.access-log} and {@code meridian.tracing} as the configuration check reads them. */
class AccessLogConfigTest {
  @TempDir
  Path dir;

  private static String config(String global) {
    return "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:9001\" } ] } }\n"
        + "  routes = [ { backend-group = app } ]\n"
        + global
        + "}\n";
  }

  private static List<String> problems(String hocon) {
    InvalidConfigException e = catchThrowableOfType(() -> SettingsLoader.parse(hocon, "test.conf"),
        InvalidConfigException.class);
    assertThat(e).as("the configuration is refused").isNotNull();
    return e.problems().stream().map(p -> p.line() + " " + p.key() + ": " + p.message()).toList();
  }

  @Test
  void theDefaultsAreOffToStdoutSampleOneAndTracingOn() throws Exception {
    MeridianSettings s = SettingsLoader.parse(config(""), "test.conf");
    AccessLogSettings a = s.accessLog();
    assertThat(a.enabled()).isFalse();
    assertThat(a.file()).as("stdout").isEmpty();
    assertThat(a.sample()).isEqualTo(1.0);
    assertThat(a.alwaysLogErrors()).isTrue();
    assertThat(a.queueSize()).isEqualTo(16384);
    assertThat(a.maxFileSize()).isEqualTo(100L * 1024 * 1024);
    assertThat(a.maxFiles()).isEqualTo(10);
    assertThat(a.decisions()).isFalse();
    assertThat(a.compress()).isFalse();
    assertThat(a).isEqualTo(AccessLogSettings.off());
    assertThat(s.tracing().enabled()).isTrue();
    assertThat(s.tracing().sampleNew()).isFalse();
  }

  @Test
  void everyKeyIsRead() throws Exception {
    Path file = dir.resolve("access.log");
    MeridianSettings s = SettingsLoader.parse(config("  access-log {\n"
        + "    enabled = true, output = \"" + file + "\", sample = 0.25, always-log-errors = false\n"
        + "    queue-size = 1024, max-file-size = 2KiB, max-files = 3, decisions = true, compress = true\n"
        + "  }\n"
        + "  tracing { enabled = false, sample-new = true }\n"), "test.conf");
    AccessLogSettings a = s.accessLog();
    assertThat(a.enabled()).isTrue();
    assertThat(a.file()).contains(file);
    assertThat(a.sample()).isEqualTo(0.25);
    assertThat(a.alwaysLogErrors()).isFalse();
    assertThat(a.queueSize()).isEqualTo(1024);
    assertThat(a.maxFileSize()).isEqualTo(2048);
    assertThat(a.maxFiles()).isEqualTo(3);
    assertThat(a.decisions()).isTrue();
    assertThat(a.compress()).isTrue();
    assertThat(s.tracing().enabled()).isFalse();
    assertThat(s.tracing().sampleNew()).isTrue();
  }

  @Test
  void theFormatAndTheRecordedFieldsAreRead() throws Exception {
    AccessLogSettings a = SettingsLoader.parse(config("  access-log {\n"
        + "    format = COMBINED\n"
        + "    request-headers = [X-Api-Client, content-type]\n"
        + "    response-headers = [Cache-Control]\n"
        + "  }\n"), "test.conf").accessLog();
    assertThat(a.format()).isEqualTo(AccessLogSettings.Format.COMBINED);
    assertThat(a.requestHeaders()).as("lower-cased, in order").containsExactly("x-api-client", "content-type");
    assertThat(a.responseHeaders()).containsExactly("cache-control");
  }

  @Test
  void anUnknownFormatAndFieldsThatAreNoNamesOrNamedTwiceAreProblems() {
    List<String> problems = problems(config("  access-log {\n"
        + "    format = apache\n"
        + "    request-headers = [\"X Api\", x-a, X-A]\n"
        + "    response-headers = [\"\"]\n"
        + "  }\n"));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("6 meridian.access-log.format: ")
        .contains("'apache'").contains("json or combined"));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("7 meridian.access-log.request-headers: ")
        .contains("'X Api' is not a header name"));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("7 meridian.access-log.request-headers: ")
        .contains("'x-a' is named twice"));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("8 meridian.access-log.response-headers: ")
        .contains("'' is not a header name"));
    assertThat(problems).hasSize(4);
  }

  @Test
  void atMostThirtyTwoFieldsAreRecorded() {
    String names = java.util.stream.IntStream.rangeClosed(1, 33).mapToObj(i -> "x-" + i)
        .collect(java.util.stream.Collectors.joining(", "));
    assertThat(problems(config("  access-log.response-headers = [" + names + "]\n"))).singleElement()
        .satisfies(p -> assertThat(p).contains("meridian.access-log.response-headers").contains("33 names are too many"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"stdout", "\" stdout \""})
  void stdoutIsNotAFile(String output) throws Exception {
    MeridianSettings s = SettingsLoader.parse(config("  access-log { enabled = true, output = " + output + " }\n"),
        "test.conf");
    assertThat(s.accessLog().enabled()).isTrue();
    assertThat(s.accessLog().file()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "0.0", "1", "0.001"})
  void theSampleBoundsAreAccepted(String sample) throws Exception {
    MeridianSettings s = SettingsLoader.parse(config("  access-log.sample = " + sample + "\n"), "test.conf");
    assertThat(s.accessLog().sample()).isEqualTo(Double.parseDouble(sample));
  }

  @ParameterizedTest
  @ValueSource(ints = {64, 128, 65536, 1 << 20})
  void queueSizesThatArePowersOfTwoFromSixtyFourAreAccepted(int size) throws Exception {
    assertThat(SettingsLoader.parse(config("  access-log.queue-size = " + size + "\n"), "test.conf")
        .accessLog().queueSize()).isEqualTo(size);
  }

  @Test
  void aRelativeOutputIsResolvedAgainstTheConfigurationFilesDirectory() throws Exception {
    Path confDir = Files.createDirectories(dir.resolve("conf"));
    Files.createDirectories(confDir.resolve("logs"));
    Path conf = Files.writeString(confDir.resolve("meridian.conf"),
        config("  access-log { enabled = true, output = \"logs/access.log\" }\n"));
    MeridianSettings s = SettingsLoader.load(conf);
    assertThat(s.accessLog().file()).contains(confDir.resolve("logs/access.log"));
  }

  @Test
  void anOutputInAMissingDirectoryIsAProblemOnlyWhenTheLogIsOn() throws Exception {
    Path missing = dir.resolve("no-such-dir").resolve("access.log");
    List<String> problems = problems(config("  access-log {\n"
        + "    enabled = true\n"
        + "    output = \"" + missing + "\"\n"
        + "  }\n"));
    assertThat(problems).singleElement().satisfies(p -> assertThat(p)
        .startsWith("7 meridian.access-log.output: ").contains("no-such-dir").contains("does not exist")
        .contains("expected"));

    MeridianSettings off = SettingsLoader.parse(config("  access-log { enabled = false, output = \"" + missing
        + "\" }\n"), "test.conf");
    assertThat(off.accessLog().enabled()).isFalse();
  }

  @Test
  void anOutputThatCannotBeWrittenIsAProblem() throws Exception {
    Path readOnly = Files.createDirectories(dir.resolve("read-only"));
    assertThat(readOnly.toFile().setWritable(false, false)).isTrue();
    try {
      org.junit.jupiter.api.Assumptions.assumeFalse(Files.isWritable(readOnly), "running as a user who may write anywhere");
      List<String> problems = problems(config("  access-log { enabled = true, output = \""
          + readOnly.resolve("access.log") + "\" }\n"));
      assertThat(problems).singleElement().satisfies(p -> assertThat(p)
          .startsWith("5 meridian.access-log.output: ").contains("cannot write"));
    } finally {
      readOnly.toFile().setWritable(true, false);
    }
  }

  @Test
  void everyProblemIsReportedAtOnceWithItsLineAndKey() {
    String hocon = config("  access-log {\n"
        + "    queue-size = 1000\n"
        + "    sample = 1.5\n"
        + "    sampel = 0.5\n"
        + "    max-files = 0\n"
        + "    max-file-size = 0\n"
        + "    always-log-errors = sometimes\n"
        + "  }\n"
        + "  tracing {\n"
        + "    enabled = maybe\n"
        + "    sample-now = true\n"
        + "  }\n");
    List<String> problems = problems(hocon);
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("6 meridian.access-log.queue-size: ")
        .contains("1000").contains("power of two"));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("7 meridian.access-log.sample: ").contains("1.5"));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("8 meridian.access-log.sampel: "));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("9 meridian.access-log.max-files: "));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("10 meridian.access-log.max-file-size: "));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("11 meridian.access-log.always-log-errors: "));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("14 meridian.tracing.enabled: "));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("15 meridian.tracing.sample-now: "));
    assertThat(problems).allSatisfy(p -> assertThat(p).contains("expected"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"32", "0", "-64", "100", "16383"})
  void aQueueSizeBelowSixtyFourOrNotAPowerOfTwoIsAProblem(String size) {
    assertThat(problems(config("  access-log.queue-size = " + size + "\n")))
        .anySatisfy(p -> assertThat(p).startsWith("5 meridian.access-log.queue-size: ").contains("expected"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1.5", "-0.1", "2", "often"})
  void aSampleOutsideZeroToOneIsAProblem(String sample) {
    assertThat(problems(config("  access-log.sample = " + sample + "\n")))
        .singleElement().satisfies(p -> assertThat(p).startsWith("5 meridian.access-log.sample: ")
            .contains("expected"));
  }

  @Test
  void anEmptyOutputIsAProblem() {
    assertThat(problems(config("  access-log { enabled = true, output = \"  \" }\n")))
        .singleElement().satisfies(p -> assertThat(p).startsWith("5 meridian.access-log.output: ")
            .contains("expected"));
  }

  @Test
  void accessLogAndTracingMustBeObjects() {
    List<String> problems = problems(config("  access-log = true\n  tracing = on\n"));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("5 meridian.access-log: "));
    assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("6 meridian.tracing: "));
  }
}
