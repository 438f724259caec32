package dev.meridian.proxy.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** One access log line: JSON that a standard parser reads back to what the entry held. */
class AccessLogLineTest {
  /** Strict: one JSON value per line, nothing after it. */
  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  /** 2023-11-14T22:13:20.123Z */
  private static final long TIME = 1_700_000_000_123L;

  private final AccessLogLine line = new AccessLogLine();

  /** An entry with only what every request has: no strings, no backend answered. */
  private static AccessLogEntry minimal() {
    AccessLogEntry e = new AccessLogEntry();
    e.startEpochMillis = TIME;
    e.status = 400;
    e.durationNanos = 1_500_000;
    e.upstreamNanos = -1;
    return e;
  }

  private static AccessLogEntry full() {
    AccessLogEntry e = new AccessLogEntry();
    e.startEpochMillis = TIME;
    e.requestId = "req-1";
    e.traceparent = TRACEPARENT;
    e.client = "192.0.2.7";
    e.method = "GET";
    e.host = "example.com";
    e.path = "/a/b";
    e.protocol = "HTTP/1.1";
    e.status = 200;
    e.bytesIn = 12;
    e.bytesOut = 3456;
    e.durationNanos = 12_345_678;
    e.upstreamNanos = 9_876_543;
    e.route = "all";
    e.group = "app";
    e.clientRegion = "eu";
    e.region = "us";
    e.backend = "b1";
    e.upstreamAddr = "[2001:db8::1]:8080";
    e.upstreamStatus = 503;
    e.attempts = 2;
    e.reason = "backend b1 did not answer in time";
    e.cache = "MISS";
    e.sticky = "pinned";
    e.decision = "p2c: b1 over b2";
    e.tls = "TLSv1.3";
    e.sni = "example.com";
    e.userAgent = "curl/8.0";
    return e;
  }

  private String text(AccessLogEntry e) {
    return line.format(e).toString();
  }

  private JsonNode parse(AccessLogEntry e) throws Exception {
    String text = text(e);
    assertThat(text).as("one line").doesNotContain("\n").doesNotContain("\r");
    return JSON.readTree(text);
  }

  /** A line holds no C0 control character, DEL or C1 control character unescaped (a terminal acts on some). */
  private static void assertNoRawControlCharacter(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      assertThat(c < 0x20 || c >= 0x7f && c <= 0x9f).as("raw control character at %d in %s", i, text).isFalse();
    }
  }

  private static List<String> names(JsonNode node) {
    List<String> names = new ArrayList<>();
    Iterator<String> it = node.fieldNames();
    it.forEachRemaining(names::add);
    return names;
  }

  @Test
  void everyFieldIsWrittenInTheDocumentedOrder() throws Exception {
    JsonNode n = parse(full());
    assertThat(names(n)).containsExactly("time", "request_id", "trace_id", "client", "method", "host", "path",
        "protocol", "status", "bytes_in", "bytes_out", "duration_ms", "upstream_ms", "route", "group",
        "client_region", "region", "backend", "upstream_addr", "upstream_status", "attempts", "reason", "cache", "sticky", "decision", "tls", "sni",
        "user_agent");
    assertThat(n.get("time").asText()).isEqualTo("2023-11-14T22:13:20.123Z");
    assertThat(n.get("request_id").asText()).isEqualTo("req-1");
    assertThat(n.get("trace_id").asText()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(n.get("client").asText()).isEqualTo("192.0.2.7");
    assertThat(n.get("method").asText()).isEqualTo("GET");
    assertThat(n.get("host").asText()).isEqualTo("example.com");
    assertThat(n.get("path").asText()).isEqualTo("/a/b");
    assertThat(n.get("protocol").asText()).isEqualTo("HTTP/1.1");
    assertThat(n.get("status").isInt()).isTrue();
    assertThat(n.get("status").asInt()).isEqualTo(200);
    assertThat(n.get("bytes_in").asLong()).isEqualTo(12);
    assertThat(n.get("bytes_out").asLong()).isEqualTo(3456);
    assertThat(n.get("duration_ms").isNumber()).isTrue();
    assertThat(n.get("duration_ms").asDouble()).isEqualTo(12.345);
    assertThat(n.get("upstream_ms").asDouble()).isEqualTo(9.876);
    assertThat(n.get("route").asText()).isEqualTo("all");
    assertThat(n.get("group").asText()).isEqualTo("app");
    assertThat(n.get("client_region").asText()).isEqualTo("eu");
    assertThat(n.get("region").asText()).isEqualTo("us");
    assertThat(n.get("backend").asText()).isEqualTo("b1");
    assertThat(n.get("upstream_addr").asText()).isEqualTo("[2001:db8::1]:8080");
    assertThat(n.get("upstream_status").asInt()).isEqualTo(503);
    assertThat(n.get("attempts").asInt()).isEqualTo(2);
    assertThat(n.get("reason").asText()).isEqualTo("backend b1 did not answer in time");
    assertThat(n.get("cache").asText()).isEqualTo("MISS");
    assertThat(n.get("sticky").asText()).isEqualTo("pinned");
    assertThat(n.get("decision").asText()).isEqualTo("p2c: b1 over b2");
    assertThat(n.get("tls").asText()).isEqualTo("TLSv1.3");
    assertThat(n.get("sni").asText()).isEqualTo("example.com");
    assertThat(n.get("user_agent").asText()).isEqualTo("curl/8.0");
  }

  @Test
  void recordedFieldsAreObjectsByNameAndThoseNotThereLeftOut() throws Exception {
    AccessLogLine withFields = new AccessLogLine(List.of("x-api-client", "accept"), List.of("content-type", "x-none"));
    AccessLogEntry e = new AccessLogEntry(2, 2);
    e.startEpochMillis = TIME;
    e.status = 200;
    e.requestHeaders[0] = "tenant \"7\"\u001b[31m";
    e.responseHeaders[0] = "text/plain";
    String text = withFields.format(e).toString();
    assertNoRawControlCharacter(text);
    JsonNode n = JSON.readTree(text);
    assertThat(names(n)).endsWith("request_headers", "response_headers");
    assertThat(names(n.get("request_headers"))).as("accept was not sent").containsExactly("x-api-client");
    assertThat(n.get("request_headers").get("x-api-client").asText()).isEqualTo("tenant \"7\"\u001b[31m");
    assertThat(names(n.get("response_headers"))).containsExactly("content-type");
    assertThat(n.get("response_headers").get("content-type").asText()).isEqualTo("text/plain");

    e.requestHeaders[1] = "*/*";
    assertThat(names(JSON.readTree(withFields.format(e).toString()).get("request_headers")))
        .containsExactly("x-api-client", "accept");
    AccessLogEntry none = new AccessLogEntry(2, 2);
    none.startEpochMillis = TIME;
    assertThat(names(JSON.readTree(withFields.format(none).toString()))).as("no field there: no object")
        .doesNotContain("request_headers", "response_headers");
  }

  @Test
  void absentFieldsAreLeftOut() throws Exception {
    JsonNode n = parse(minimal());
    assertThat(names(n)).containsExactly("time", "status", "bytes_in", "bytes_out", "duration_ms", "attempts");
    assertThat(n.get("status").asInt()).isEqualTo(400);
    assertThat(n.get("bytes_in").asLong()).isZero();
    assertThat(n.get("attempts").asInt()).isZero();
  }

  @Test
  void aReusedFormatterKeepsNothingOfTheLineBefore() throws Exception {
    parse(full());
    JsonNode n = parse(minimal());
    assertThat(names(n)).containsExactly("time", "status", "bytes_in", "bytes_out", "duration_ms", "attempts");
    assertThat(text(minimal())).isEqualTo(new AccessLogLine().format(minimal()).toString());
  }

  @ParameterizedTest
  @CsvSource({
      "1700000000123, 2023-11-14T22:13:20.123Z",
      "1700000000000, 2023-11-14T22:13:20.000Z",
      "1700000000005, 2023-11-14T22:13:20.005Z",
      "1700000000050, 2023-11-14T22:13:20.050Z",
      "1700000000999, 2023-11-14T22:13:20.999Z",
      "0, 1970-01-01T00:00:00.000Z",
      "951782400001, 2000-02-29T00:00:00.001Z",
      "4102444799999, 2099-12-31T23:59:59.999Z"})
  void timeIsUtcWithMilliseconds(long epochMillis, String expected) throws Exception {
    AccessLogEntry e = minimal();
    e.startEpochMillis = epochMillis;
    assertThat(parse(e).get("time").asText()).isEqualTo(expected);
  }

  /** The formatter keeps the text of the last second: moving between seconds must not reuse a stale one. */
  @Test
  void timeIsRightAcrossSecondsInAnyOrder() throws Exception {
    long[] times = {TIME, TIME + 500, TIME + 877, TIME + 1000, TIME - 124, TIME + 1, 86_400_000L * 365, TIME};
    for (long t : times) {
      AccessLogEntry e = minimal();
      e.startEpochMillis = t;
      assertThat(parse(e).get("time").asText()).as("time %d", t).isEqualTo(java.time.Instant.ofEpochMilli(t)
          .atOffset(java.time.ZoneOffset.UTC).format(java.time.format.DateTimeFormatter.ofPattern(
              "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")));
    }
  }

  @ParameterizedTest
  @CsvSource({
      "0, 0.000",
      "999, 0.000",
      "1000, 0.001",
      "5000, 0.005",
      "1234567, 1.234",
      "2000000, 2.000",
      "10050000, 10.050",
      "1500000000, 1500.000",
      "-5, 0.000"})
  void durationsAreMillisecondsWithThreeDecimals(long nanos, String expected) throws Exception {
    AccessLogEntry e = minimal();
    e.durationNanos = nanos;
    e.upstreamNanos = nanos < 0 ? 0 : nanos;
    String text = text(e);
    assertThat(text).contains("\"duration_ms\":" + expected + ",");
    assertThat(text).contains("\"upstream_ms\":" + (nanos < 0 ? "0.000" : expected) + ",");
    assertThat(JSON.readTree(text).get("duration_ms").asDouble()).isEqualTo(Double.parseDouble(expected));
  }

  @Test
  void upstreamTimeIsLeftOutWhenNoBackendAnsweredButZeroIsKept() throws Exception {
    AccessLogEntry e = minimal();
    e.upstreamNanos = -1;
    assertThat(parse(e).has("upstream_ms")).isFalse();
    e.upstreamNanos = 0;
    assertThat(parse(e).get("upstream_ms").asDouble()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "quote \" inside",
      "back\\slash and \\\" both",
      "new\nline, return\r, tab\t",
      "nul \u0000 bell \u0007 esc \u001b unit \u001f del \u007f",
      "caf\u00e9 \u65e5\u672c\u8a9e \u00ff",
      "emoji \ud83d\ude00 end",
      "lone high \ud800 and lone low \udc00",
      "line separator \u2028 paragraph \u2029",
      "</script><!-- {\"json\": [1,2]} -->",
      ""})
  void clientTextReadsBackAsItWas(String value) throws Exception {
    AccessLogEntry e = minimal();
    e.path = value;
    e.host = value;
    e.userAgent = value;
    e.sni = value;
    e.method = value;
    e.requestId = value;
    e.decision = value;
    String text = text(e);
    assertNoRawControlCharacter(text);
    JsonNode n = JSON.readTree(text);
    for (String field : List.of("path", "host", "user_agent", "sni", "method", "request_id", "decision")) {
      assertThat(n.get(field).asText()).as(field).isEqualTo(value);
    }
  }

  /**
   * A client's bytes (one char each, as they arrive) that are UTF-8 are logged as the characters they
   * encode, not as one character per byte ("cafÃ©"); bytes that are not are escaped one by one, and
   * C1 controls (a terminal acts on U+009B) never appear raw.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "caf\u00c3\u00a9                 | café",
      "\u00e6\u0097\u00a5\u00e6\u009c\u00ac | 日本",
      "\u00f0\u009f\u0098\u0080      | \ud83d\ude00",
      "csi \u00c2\u009b31m               | csi \u009b31m",
      "raw \u009b byte                  | raw \u009b byte",
      "cut \u00c3                       | cut \u00c3",
      "overlong \u00c0\u00af            | overlong \u00c0\u00af",
      "surrogate \u00ed\u00a0\u0080    | surrogate \u00ed\u00a0\u0080",
      "latin-1 \u00e9t\u00e9           | latin-1 \u00e9t\u00e9"})
  void clientBytesThatAreUtf8AreLoggedAsTheirCharactersAndOthersEscaped(String sent, String logged) throws Exception {
    AccessLogEntry e = minimal();
    e.userAgent = sent;
    e.path = sent;
    String text = text(e);
    assertNoRawControlCharacter(text);
    JsonNode n = JSON.readTree(text);
    assertThat(n.get("user_agent").asText()).isEqualTo(logged);
    assertThat(n.get("path").asText()).isEqualTo(logged);
  }

  /** In the line itself: UTF-8 as its characters, a byte that is not UTF-8 as an escape of its value. */
  @Test
  void utf8IsWrittenAsItsCharactersAndOtherHighBytesAsEscapes() {
    AccessLogEntry e = minimal();
    e.path = "/caf\u00c3\u00a9";
    e.userAgent = "latin-1 \u00e9t\u00e9";
    assertThat(text(e)).contains("\"path\":\"/caf\u00e9\"").contains("\"user_agent\":\"latin-1 \\u00e9t\\u00e9\"");
  }

  @Test
  void controlCharactersAreWrittenAsEscapes() {
    AccessLogEntry e = minimal();
    e.path = "a\"b\\c\nd\re\tf\u0001g\u007fh";
    assertThat(text(e)).contains("\"path\":\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007fh\"");
  }

  @Test
  void clientTextIsCutAt2048Characters() throws Exception {
    String longText = "x".repeat(2047) + "yz" + "w".repeat(3000);
    AccessLogEntry e = minimal();
    e.userAgent = longText;
    e.path = longText;
    e.host = longText;
    e.sni = longText;
    e.method = longText;
    JsonNode n = parse(e);
    for (String field : List.of("user_agent", "path", "host", "sni", "method")) {
      assertThat(n.get(field).asText()).as(field).hasSize(2048).isEqualTo(longText.substring(0, 2048));
    }
    e.userAgent = "u".repeat(2048);
    assertThat(parse(e).get("user_agent").asText()).isEqualTo("u".repeat(2048));
  }

  /** Escaping does not count against the limit: 2048 characters that each need an escape are all kept. */
  @Test
  void theCutCountsCharactersNotEscapedBytes() throws Exception {
    AccessLogEntry e = minimal();
    e.userAgent = "\"".repeat(3000);
    assertThat(parse(e).get("user_agent").asText()).isEqualTo("\"".repeat(2048));
  }

  @Test
  void traceIdIsTakenFromTheTraceparent() throws Exception {
    AccessLogEntry e = minimal();
    e.traceparent = TRACEPARENT;
    assertThat(parse(e).get("trace_id").asText()).isEqualTo(TRACEPARENT.substring(3, 35))
        .isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    e.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    assertThat(parse(e).get("trace_id").asText()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    e.traceparent = "00-tooshort";
    assertThat(parse(e).has("trace_id")).isFalse();
  }

  @Test
  void largeCountsAreWrittenWhole() throws Exception {
    AccessLogEntry e = minimal();
    e.bytesIn = 5L << 32;
    e.bytesOut = Long.MAX_VALUE;
    JsonNode n = parse(e);
    assertThat(n.get("bytes_in").asLong()).isEqualTo(5L << 32);
    assertThat(n.get("bytes_out").asLong()).isEqualTo(Long.MAX_VALUE);
  }
}
