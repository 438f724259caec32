package dev.meridian.proxy.http;

import dev.meridian.proxy.http1.FieldNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * The fields by which a client asks a framework to treat its request as another method
 * ({@code X-HTTP-Method-Override: DELETE} on a POST, which Rails, Laravel, Express and Spring honour
 * when so configured), dropped from requests on a route that allows only some methods: else a POST
 * the route allows would do what a DELETE the route refuses does. Also spelled with {@code _}.
 */
public final class MethodOverrides {
  private static final FieldNames NAMES = FieldNames.eitherSeparator(List.of(
      AsciiString.cached("x-http-method-override"), AsciiString.cached("x-http-method"),
      AsciiString.cached("x-method-override")));

  private MethodOverrides() {}

  /** Removes the method-override fields from a request. */
  public static void strip(HttpHeaders headers) {
    ForwardingHeaders.strip(headers, NAMES);
  }
}
