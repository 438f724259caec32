package dev.meridian.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What {@link LogText} lets into a log line of what a client sent. */
class LogTextTest {
  @Test
  void plainTextIsKeptAsItIs() {
    String path = "/api/v1/items?id=7&q=caf\u00e9";
    assertThat(LogText.printable(path)).isSameAs(path);
    assertThat(LogText.printable(null)).isNull();
  }

  @Test
  void controlCharactersThatATerminalActsOnAreEscaped() {
    assertThat(LogText.printable("/\u001b[2J\u001b[31mFAKE\u0007\b\b")).isEqualTo("/\\x1b[2J\\x1b[31mFAKE\\x07\\x08\\x08");
    assertThat(LogText.printable("/x\u009b0m\u007f")).as("C1 CSI and DEL").isEqualTo("/x\\x9b0m\\x7f");
    assertThat(LogText.printable("a\r\nb\tc")).isEqualTo("a\\x0d\\x0ab\\x09c");
    assertThat(LogText.printable("a\\x1b")).as("a backslash cannot fake an escape").isEqualTo("a\\\\x1b");
  }

  @Test
  void longTextIsCut() {
    String cut = LogText.printable("a".repeat(LogText.MAX_LENGTH + 100));
    assertThat(cut).hasSize(LogText.MAX_LENGTH + 3).endsWith("...");
    assertThat(LogText.printable("\u0001".repeat(LogText.MAX_LENGTH + 1))).endsWith("\\x01...");
  }
}
