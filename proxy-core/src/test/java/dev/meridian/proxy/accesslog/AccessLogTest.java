package dev.meridian.proxy.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ring between the event loops and the writer: claiming, sampling, a full ring, closing, rotation. */
class AccessLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private static void fill(AccessLogEntry e, int status, String path) {
    e.startEpochMillis = System.currentTimeMillis();
    e.status = status;
    e.method = "GET";
    e.path = path;
    e.durationNanos = 1_000_000;
    e.upstreamNanos = -1;
  }

  private static void publish(AccessLog log, int status, String path) {
    AccessLogEntry e = log.claim(status);
    assertThat(e).as("a slot for %s", path).isNotNull();
    fill(e, status, path);
    log.publish(e);
  }

  /** A slot, waiting for the writer to free one when the ring is full (a full ring counts a drop each try). */
  private static AccessLogEntry claimWaiting(AccessLog log) {
    AccessLogEntry e = log.claim(200);
    return e != null ? e : await().atMost(Duration.ofSeconds(10)).pollInSameThread()
        .pollInterval(Duration.ofMillis(1)).until(() -> log.claim(200), java.util.Objects::nonNull);
  }

  /** Waits until the writer has written {@code n} lines (so closing is not what a test exercises). */
  private static void awaitWritten(AccessLog log, long n) {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(log.written()).isEqualTo(n));
  }

  private static List<JsonNode> lines(Path file) throws IOException {
    List<JsonNode> nodes = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      nodes.add(JSON.readTree(line));
    }
    return nodes;
  }

  @Test
  void aFullRingDropsAndCountsWithoutWaitingAndLosesNothingClaimed() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLog log = new AccessLog(() -> AccessLogOutput.file(file, 1L << 20, 2, false), 64, 1.0, true);
    List<AccessLogEntry> claimed = new ArrayList<>();
    try {
      for (int i = 0; i < 64; i++) {
        AccessLogEntry e = log.claim(200);
        assertThat(e).as("slot %d of 64", i).isNotNull();
        fill(e, 200, "/" + i);
        claimed.add(e);
      }
      // Every slot is claimed and none published: the writer cannot move, the ring is full.
      long before = System.nanoTime();
      assertThat(log.claim(200)).isNull();
      assertThat(log.claim(503)).as("errors are dropped too when the ring is full").isNull();
      assertThat(Duration.ofNanos(System.nanoTime() - before)).as("a full ring answers at once")
          .isLessThan(Duration.ofMillis(500));
      assertThat(log.dropped()).isEqualTo(2);
      assertThat(log.sampledOut()).isZero();
      assertThat(log.written()).isZero();
    } finally {
      claimed.forEach(log::publish);
      log.close();
    }
    assertThat(log.written()).isEqualTo(64);
    List<JsonNode> lines = lines(file);
    assertThat(lines).hasSize(64);
    assertThat(lines).extracting(n -> n.get("path").asText())
        .containsExactlyElementsOf(Stream.iterate(0, i -> i + 1).limit(64).map(i -> "/" + i).toList());
  }

  @Test
  void slotsAreReusedOnceWritten() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLog log = new AccessLog(() -> AccessLogOutput.file(file, 1L << 20, 2, false), 64, 1.0, true);
    try {
      for (int i = 0; i < 1000; i++) {
        int n = i;
        // The writer frees slots as it goes: waiting for it makes room (and never drops).
        AccessLogEntry e = claimWaiting(log);
        fill(e, 200, "/" + n);
        log.publish(e);
      }
      awaitWritten(log, 1000);
    } finally {
      log.close();
    }
    assertThat(log.written()).isEqualTo(1000);
    List<JsonNode> lines = lines(file);
    assertThat(lines).hasSize(1000);
    assertThat(lines.get(999).get("path").asText()).isEqualTo("/999");
  }

  @Test
  void closeWritesEveryPublishedLine() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLog log = new AccessLog(() -> AccessLogOutput.file(file, 1L << 20, 2, false), 1024, 1.0, true);
    publish(log, 200, "/first");
    awaitWritten(log, 1);
    for (int i = 0; i < 500; i++) {
      publish(log, 200, "/close/" + i);
    }
    log.close();
    assertThat(log.written()).isEqualTo(501);
    assertThat(lines(file)).hasSize(501).last().satisfies(n -> assertThat(n.get("path").asText())
        .isEqualTo("/close/499"));
  }

  /**
   * A log closed right after it started (a proxy stopped at once, a failed start) still writes what
   * was published: close must not stop a writer thread that has not begun to run.
   */
  @Test
  void closeRightAfterStartWritesWhatWasPublished() throws Exception {
    for (int round = 0; round < 20; round++) {
      Path file = dir.resolve("quick-" + round + ".log");
      AccessLog log = new AccessLog(() -> AccessLogOutput.file(file, 1L << 20, 2, false), 64, 1.0, true);
      publish(log, 200, "/quick/" + round);
      log.close();
      assertThat(log.written()).as("lines written in round %d", round).isEqualTo(1);
      assertThat(Files.exists(file) ? lines(file) : List.<JsonNode>of()).as("round %d", round).hasSize(1);
    }
  }

  @Test
  void linesReachTheFileWithoutClosing() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLog log = new AccessLog(() -> AccessLogOutput.file(file, 1L << 20, 2, false), 64, 1.0, true);
    try {
      AccessLogEntry e = log.claim(200);
      fill(e, 200, "/flushed");
      log.publish(e);
      // The writer flushes at the end of each batch: an idle log has nothing waiting in a buffer.
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(Files.exists(file) ? Files.readString(file) : "").contains("\"path\":\"/flushed\"")
              .endsWith("}\n"));
      assertThat(log.written()).isEqualTo(1);
    } finally {
      log.close();
    }
  }

  @Test
  void sampleZeroLogsOnlyErrorsWhenAlwaysLogErrorsIsOn() throws Exception {
    AccessLog log = new AccessLog(() -> AccessLogOutput.file(dir.resolve("a.log"), 1L << 20, 2, false), 64, 0.0, true);
    try {
      for (int status : new int[] {200, 204, 301, 404, 429}) {
        assertThat(log.claim(status)).as("status %d", status).isNull();
      }
      assertThat(log.sampledOut()).isEqualTo(5);
      for (int status : new int[] {500, 502, 503, 504, 499}) {
        AccessLogEntry e = log.claim(status);
        assertThat(e).as("status %d", status).isNotNull();
        fill(e, status, "/error");
        log.publish(e);
      }
      assertThat(log.sampledOut()).isEqualTo(5);
      assertThat(log.dropped()).isZero();
      awaitWritten(log, 5);
    } finally {
      log.close();
    }
    assertThat(log.written()).isEqualTo(5);
  }

  @Test
  void sampleZeroWithoutAlwaysLogErrorsLogsNothing() {
    AccessLog log = new AccessLog(() -> AccessLogOutput.file(dir.resolve("a.log"), 1L << 20, 2, false), 64, 0.0, false);
    try {
      for (int status : new int[] {200, 499, 500, 503}) {
        assertThat(log.claim(status)).as("status %d", status).isNull();
      }
      assertThat(log.sampledOut()).isEqualTo(4);
    } finally {
      log.close();
    }
  }

  @Test
  void sampleOneLogsEverything() {
    AccessLog log = new AccessLog(() -> AccessLogOutput.file(dir.resolve("a.log"), 1L << 20, 2, false), 64, 1.0, false);
    try {
      for (int i = 0; i < 200; i++) {
        AccessLogEntry e = claimWaiting(log);
        fill(e, 200, "/");
        log.publish(e);
      }
      assertThat(log.sampledOut()).isZero();
      awaitWritten(log, 200);
    } finally {
      log.close();
    }
    assertThat(log.written()).isEqualTo(200);
  }

  @Test
  void aSampleLogsAboutThatFraction() {
    AccessLog log = new AccessLog(() -> AccessLogOutput.file(dir.resolve("a.log"), 1L << 20, 2, false), 16384, 0.25, true);
    int logged = 0;
    try {
      for (int i = 0; i < 8000; i++) {
        AccessLogEntry e = log.claim(200);
        if (e != null) {
          logged++;
          fill(e, 200, "/");
          log.publish(e);
        }
      }
      awaitWritten(log, logged);
    } finally {
      log.close();
    }
    // 2000 expected; the standard deviation is about 39, so this range fails only when sampling is wrong.
    assertThat(logged).isBetween(1700, 2300);
    assertThat(log.sampledOut()).isEqualTo(8000 - logged);
    assertThat(log.written()).isEqualTo(logged);
    assertThat(log.dropped()).isZero();
  }

  @Test
  void aFileIsRotatedIntoAtMostMaxFilesCompressedFiles() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLog log = new AccessLog(() -> AccessLogOutput.file(file, 2048, 2, true), 64, 1.0, true);
    try {
      for (int i = 0; i < 400; i++) {
        AccessLogEntry e = claimWaiting(log);
        fill(e, 200, "/rotate/" + i + "/" + "p".repeat(100));
        log.publish(e);
      }
      awaitWritten(log, 400);
    } finally {
      log.close();
    }
    assertThat(log.written()).isEqualTo(400);
    assertRotated(file, 2);
    // The current file holds the newest lines, the last one last.
    List<JsonNode> current = lines(file);
    assertThat(current).isNotEmpty();
    assertThat(current.get(current.size() - 1).get("path").asText()).startsWith("/rotate/399/");
  }

  @Test
  void settingsChooseTheFileOutput() throws Exception {
    Path file = dir.resolve("from-settings.log");
    AccessLogSettings settings = new AccessLogSettings(true, Optional.of(file), 1.0, true, 64, 1L << 20, 3, false, false, true,
        AccessLogSettings.Format.JSON, List.of(), List.of());
    AccessLog log = AccessLog.start(settings);
    try {
      publish(log, 200, "/settings");
      awaitWritten(log, 1);
    } finally {
      log.close();
    }
    assertThat(lines(file)).singleElement().satisfies(n -> assertThat(n.get("path").asText()).isEqualTo("/settings"));
  }

  @Test
  void offIsTheDocumentedDefault() {
    AccessLogSettings off = AccessLogSettings.off();
    assertThat(off.enabled()).isFalse();
    assertThat(off.file()).isEmpty();
    assertThat(off.sample()).isEqualTo(1.0);
    assertThat(off.alwaysLogErrors()).isTrue();
    assertThat(off.queueSize()).isEqualTo(16384);
    assertThat(off.maxFileSize()).isEqualTo(100L * 1024 * 1024);
    assertThat(off.maxFiles()).isEqualTo(10);
    assertThat(off.decisions()).isFalse();
  }

  /**
   * {@code file.1.gz} exists, at most {@code maxFiles} rotated files are kept (named {@code .1.gz} to
   * {@code .N.gz}, nothing uncompressed left beside them), and each decompresses to JSON lines.
   */
  static void assertRotated(Path file, int maxFiles) throws IOException {
    Path dir = file.getParent();
    String name = file.getFileName().toString();
    List<Path> rotated;
    try (Stream<Path> files = Files.list(dir)) {
      rotated = files.filter(p -> p.getFileName().toString().startsWith(name + ".")).sorted().toList();
    }
    assertThat(rotated).extracting(p -> p.getFileName().toString()).contains(name + ".1.gz")
        .allMatch(n -> n.matches(java.util.regex.Pattern.quote(name) + "\\.[1-9][0-9]*\\.gz"));
    assertThat(rotated).hasSizeLessThanOrEqualTo(maxFiles);
    for (Path gz : rotated) {
      String text;
      try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      assertThat(text).as(gz.toString()).isNotEmpty().endsWith("\n");
      for (String line : text.split("\n")) {
        assertThat(JSON.readTree(line).has("status")).as(line).isTrue();
      }
    }
  }
}
