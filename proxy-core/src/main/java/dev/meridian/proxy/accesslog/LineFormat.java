package dev.meridian.proxy.accesslog;

/** Turns an access log entry into one line of text ({@code access-log.format}); the writer thread owns one. */
interface LineFormat {
  /** Formats the entry and returns the buffer holding the line (without a line break), valid until the next call. */
  StringBuilder format(AccessLogEntry e);

  /** The format the settings name, recording the header fields they name. */
  static LineFormat of(AccessLogSettings settings) {
    return switch (settings.format()) {
      case JSON -> new AccessLogLine(settings.requestHeaders(), settings.responseHeaders());
      case COMBINED -> new CombinedLogLine();
    };
  }
}
