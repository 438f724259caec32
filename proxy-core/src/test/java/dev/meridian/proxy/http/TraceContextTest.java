package dev.meridian.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** W3C Trace Context at the proxy hop: which traceparent values are kept, and what the next hop gets. */
class TraceContextTest {
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String PARENT_ID = "00f067aa0ba902b7";
  private static final String VALID = "00-" + TRACE_ID + "-" + PARENT_ID + "-01";
  private static final String TRACESTATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
  /** What Meridian writes: version 00, lower-case hex, a non-zero trace and parent id. */
  private static final String VERSION_00 = "00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}";

  private static HttpHeaders headers(String... namesAndValues) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      h.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return h;
  }

  @Test
  void aValidTraceparentKeepsItsTraceIdAndFlagsAndGetsANewParentId() {
    HttpHeaders h = headers("traceparent", VALID, "tracestate", TRACESTATE);
    String next = TraceContext.nextHop(h, false).toString();

    assertThat(next).matches(VERSION_00).startsWith("00-" + TRACE_ID + "-").endsWith("-01");
    assertThat(TraceContext.traceId(next)).isEqualTo(TRACE_ID);
    assertThat(TraceContext.spanId(next)).isNotEqualTo(PARENT_ID).isNotEqualTo("0000000000000000");
    assertThat(h.getAll("traceparent")).containsExactly(next);
    assertThat(h.getAll("tracestate")).as("tracestate goes on with a kept trace").containsExactly(TRACESTATE);
    assertThat(TraceContext.isValid(next)).isTrue();
  }

  @Test
  void eachHopGetsADifferentParentId() {
    Set<String> spans = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      String next = TraceContext.nextHop(headers("traceparent", VALID), false).toString();
      assertThat(TraceContext.traceId(next)).isEqualTo(TRACE_ID);
      spans.add(TraceContext.spanId(next));
    }
    assertThat(spans).hasSize(100).doesNotContain(PARENT_ID);
  }

  @ParameterizedTest
  @ValueSource(strings = {"00", "01", "03", "fe"})
  void theIncomingFlagsAreKeptWhateverSampleNewSays(String flags) {
    String incoming = "00-" + TRACE_ID + "-" + PARENT_ID + "-" + flags;
    assertThat(TraceContext.nextHop(headers("traceparent", incoming), true)).endsWith("-" + flags)
        .contains(TRACE_ID);
    assertThat(TraceContext.nextHop(headers("traceparent", incoming), false)).endsWith("-" + flags)
        .contains(TRACE_ID);
  }

  @Test
  void theHeaderNameIsCaseInsensitive() {
    HttpHeaders h = headers("TraceParent", VALID, "TraceState", TRACESTATE);
    String next = TraceContext.nextHop(h, false).toString();
    assertThat(TraceContext.traceId(next)).isEqualTo(TRACE_ID);
    assertThat(h.getAll("traceparent")).containsExactly(next);
    assertThat(h.get("tracestate")).isEqualTo(TRACESTATE);
  }

  @Test
  void aRequestWithoutTraceparentStartsATraceFlaggedAsSampleNewSays() {
    HttpHeaders unsampled = headers();
    String off = TraceContext.nextHop(unsampled, false).toString();
    assertThat(off).matches(VERSION_00).endsWith("-00").hasSize(55);
    assertThat(unsampled.get("traceparent")).isEqualTo(off);

    HttpHeaders sampled = headers();
    String on = TraceContext.nextHop(sampled, true).toString();
    assertThat(on).matches(VERSION_00).endsWith("-01");
    assertThat(sampled.get("traceparent")).isEqualTo(on);
    assertThat(TraceContext.isValid(off)).isTrue();
    assertThat(TraceContext.isValid(on)).isTrue();
  }

  @Test
  void aTracestateWithoutTraceparentIsDropped() {
    HttpHeaders h = headers("tracestate", TRACESTATE);
    TraceContext.nextHop(h, false);
    assertThat(h.contains("tracestate")).isFalse();
    assertThat(h.contains("traceparent")).isTrue();
  }

  @Test
  void twoTraceparentHeadersStartANewTraceAndDropTracestate() {
    String other = "00-" + "0af7651916cd43dd8448eb211c80319c" + "-" + "b7ad6b7169203331" + "-01";
    HttpHeaders h = headers("traceparent", VALID, "traceparent", other, "tracestate", TRACESTATE);
    String next = TraceContext.nextHop(h, false).toString();
    assertThat(next).matches(VERSION_00).doesNotContain(TRACE_ID).doesNotContain("0af7651916cd43dd8448eb211c80319c")
        .endsWith("-00");
    assertThat(h.getAll("traceparent")).containsExactly(next);
    assertThat(h.contains("tracestate")).isFalse();

    HttpHeaders same = headers("traceparent", VALID, "traceparent", VALID);
    assertThat(TraceContext.traceId(TraceContext.nextHop(same, false))).isNotEqualTo(TRACE_ID);
    assertThat(same.getAll("traceparent")).hasSize(1);
  }

  /** Values the W3C rules refuse: each starts a new trace and drops tracestate. */
  @ParameterizedTest
  @ValueSource(strings = {
      // uppercase hex, in each field
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
      "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // version ff is invalid, even with a valid rest
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // all-zero trace id, all-zero parent id
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      // wrong lengths
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
      "00-4bf92f3577b34da6a3ce929d0e0e47361-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
      // version 00 has exactly four fields
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
      // a later version may go on only after a dash
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01xyz",
      // wrong delimiters, non-hex digits, blanks
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "",
      "00"})
  void anInvalidTraceparentStartsANewTrace(String invalid) {
    assertThat(TraceContext.isValid(invalid)).isFalse();
    HttpHeaders h = headers("traceparent", invalid, "tracestate", TRACESTATE);
    String next = TraceContext.nextHop(h, false).toString();
    assertThat(next).matches(VERSION_00).endsWith("-00");
    assertThat(TraceContext.traceId(next)).isNotEqualTo(TRACE_ID);
    assertThat(h.getAll("traceparent")).containsExactly(next);
    assertThat(h.contains("tracestate")).as("tracestate of a trace the backend will not see").isFalse();
  }

  /** Blanks around the value (which Netty's headers refuse to hold, so checked on the value alone). */
  @ParameterizedTest
  @ValueSource(strings = {
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
      "\t00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
  void surroundingBlanksAreInvalid(String value) {
    assertThat(TraceContext.isValid(value)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
      // a later version: the same four fields, then more after a dash, or nothing more
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds",
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-",
      "fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-ab",
      // ids with zeros in them but not only zeros
      "00-00000000000000000000000000000001-0000000000000001-01"})
  void validValuesAreKept(String valid) {
    assertThat(TraceContext.isValid(valid)).isTrue();
    HttpHeaders h = headers("traceparent", valid, "tracestate", TRACESTATE);
    String next = TraceContext.nextHop(h, false).toString();
    assertThat(next).as("written as version 00").matches(VERSION_00).hasSize(55);
    assertThat(TraceContext.traceId(next)).isEqualTo(valid.substring(3, 35));
    assertThat(next.substring(53)).as("flags").isEqualTo(valid.substring(53, 55));
    assertThat(TraceContext.spanId(next)).isNotEqualTo(valid.substring(36, 52));
    assertThat(h.get("tracestate")).isEqualTo(TRACESTATE);
  }

  @Test
  void newTraceIdsAndSpanIdsAreRandomNonZeroLowerCaseHex() {
    Set<String> traces = new HashSet<>();
    Set<String> spans = new HashSet<>();
    for (int i = 0; i < 2000; i++) {
      String next = TraceContext.nextHop(headers(), i % 2 == 0).toString();
      assertThat(next).matches(VERSION_00);
      String trace = TraceContext.traceId(next);
      String span = TraceContext.spanId(next);
      assertThat(trace).hasSize(32).isNotEqualTo("0".repeat(32));
      assertThat(span).hasSize(16).isNotEqualTo("0".repeat(16));
      traces.add(trace);
      spans.add(span);
    }
    assertThat(traces).as("distinct trace ids").hasSize(2000);
    assertThat(spans).as("distinct span ids").hasSize(2000);
    // Every hex digit turns up in every position of the trace id across 2000 random ids: the id is not
    // made of a fixed part and a counter.
    for (int position = 0; position < 32; position++) {
      Set<Character> digits = new HashSet<>();
      for (String t : traces) {
        digits.add(t.charAt(position));
      }
      assertThat(digits).as("digits at position %d", position).hasSize(16);
    }
  }

  @Test
  void traceIdAndSpanIdAreTheSecondAndThirdFields() {
    assertThat(TraceContext.traceId(VALID)).isEqualTo(TRACE_ID);
    assertThat(TraceContext.spanId(VALID)).isEqualTo(PARENT_ID);
  }
}
