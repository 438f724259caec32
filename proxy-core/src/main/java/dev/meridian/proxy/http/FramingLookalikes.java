package dev.meridian.proxy.http;

import dev.meridian.proxy.http1.FieldNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * The framing fields spelled with {@code _} for {@code -} ({@code Content_Length},
 * {@code Transfer_Encoding}), dropped from every request. Meridian frames a request by its
 * {@code Content-Length} or {@code Transfer-Encoding} alone, but a backend that reads {@code _} as
 * {@code -} (CGI, WSGI and Rack servers give both spellings one variable) would take the lookalike
 * for the real field and see another end of the request than Meridian sent: the rest of the body
 * would be its next request. nginx drops every name with {@code _} by default; this drops the two
 * that frame a message, from any client, trusted proxy or not.
 */
public final class FramingLookalikes {
  private static final FieldNames NAMES = FieldNames.underscoreSpellings(
      List.of(AsciiString.cached("content-length"), AsciiString.cached("transfer-encoding")));

  private FramingLookalikes() {}

  /** Removes the underscore spellings of Content-Length and Transfer-Encoding from a request. */
  public static void strip(HttpHeaders headers) {
    ForwardingHeaders.strip(headers, NAMES);
  }
}
