package dev.meridian.proxy.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The NCSA combined format, as nginx writes it: field by field, and escaped as nginx escapes. */
class CombinedLogLineTest {
  /** 2023-11-14T22:13:20.123Z */
  private static final long TIME = 1_700_000_000_123L;

  private final CombinedLogLine line = new CombinedLogLine(ZoneOffset.UTC);

  private static AccessLogEntry get(int requestFields, int responseFields) {
    AccessLogEntry e = new AccessLogEntry(requestFields, responseFields);
    e.startEpochMillis = TIME;
    e.client = "192.0.2.7";
    e.method = "GET";
    e.path = "/a/b";
    e.protocol = "HTTP/1.1";
    e.status = 200;
    e.bytesOut = 3456;
    return e;
  }

  @Test
  void aRequestIsTheLineNginxWrites() {
    AccessLogEntry e = get(0, 0);
    e.query = "x=1&y=2";
    e.referer = "https://example.com/";
    e.userAgent = "curl/8.0";
    assertThat(line.format(e).toString()).isEqualTo(
        "192.0.2.7 - - [14/Nov/2023:22:13:20 +0000] \"GET /a/b?x=1&y=2 HTTP/1.1\" 200 3456"
            + " \"https://example.com/\" \"curl/8.0\"");
  }

  @Test
  void whatIsMissingIsADash() {
    AccessLogEntry e = get(0, 0);
    e.method = "-"; // what a refused head whose request line could not be read is logged with
    e.path = "-";
    e.status = 400;
    e.bytesOut = 0;
    assertThat(line.format(e).toString()).isEqualTo("192.0.2.7 - - [14/Nov/2023:22:13:20 +0000] \"-\" 400 0 \"-\" \"-\"");
  }

  @Test
  void recordedFieldsFollowTheUserAgentRequestFieldsFirst() {
    AccessLogEntry e = get(2, 1);
    e.requestHeaders[1] = "tenant-7";
    e.responseHeaders[0] = "text/plain";
    assertThat(line.format(e).toString()).endsWith("3456 \"-\" \"-\" \"-\" \"tenant-7\" \"text/plain\"");
  }

  @Test
  void quotesBackslashesControlsAndHighBytesAreEscapedAsNginxDoes() {
    AccessLogEntry e = get(0, 0);
    e.path = "/caf\u00c3\u00a9\"x\\";
    e.userAgent = "a\" \"b\u001b[31m\r\n\u007f";
    String text = line.format(e).toString();
    assertThat(text).contains("\"GET /caf\\xC3\\xA9\\x22x\\x5C HTTP/1.1\"")
        .endsWith("\"a\\x22 \\x22b\\x1B[31m\\x0D\\x0A\\x7F\"");
    for (char c : text.toCharArray()) {
      assertThat(c >= 0x20 && c < 0x7f).as("only printable ASCII in %s", text).isTrue();
    }
  }

  @Test
  void theTimeIsInTheZoneGiven() {
    assertThat(new CombinedLogLine(ZoneId.of("Asia/Kolkata")).format(get(0, 0)).toString())
        .contains("[15/Nov/2023:03:43:20 +0530]");
  }
}
