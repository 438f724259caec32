package dev.meridian.proxy.forwarding;

import dev.meridian.proxy.forwarding.Http2RequestScript.Field;
import dev.meridian.proxy.forwarding.Http2RequestScript.Frame;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What RFC 9113 and Meridian's documented behaviour say of an HTTP/2 request, for checking what the
 * proxy did with it: whether it must be refused (malformed, as section 8.1.1 says "intermediaries
 * ... MUST NOT forward a malformed request"; or a CONNECT, which Meridian answers 405), whether it is
 * plainly acceptable (it must then be forwarded), and which of its fields a backend sees unchanged.
 */
final class Http2RequestRules {
  /** The pseudo-header fields of a request (no extended CONNECT: {@code :protocol} is not enabled). */
  private static final Set<String> PSEUDO = Set.of(":method", ":scheme", ":authority", ":path");
  /** Fields RFC 9113 section 8.2.2 forbids ({@code te} but for "trailers", a coding name: any case). */
  private static final Set<String> CONNECTION_SPECIFIC =
      Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade");
  /**
   * Fields the proxy sets, replaces or drops on the way (hop-by-hop, its own forwarding headers,
   * request id, trace context, Netty's x-http2-* names): the backend may see them differently.
   */
  private static final Set<String> PROXY_OWNED = Set.of("te", "trailer", "connection", "transfer-encoding",
      "content-length", "host", "cookie", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
      "x-forwarded-port", "x-forwarded-prefix", "x-real-ip", "forwarded", "client-ip", "x-client-ip",
      "true-client-ip", "x-cluster-client-ip", "x-forwarded-server", "via", "x-request-id",
      "traceparent", "tracestate", "x-http2-scheme", "x-http2-stream-id", "x-http2-stream-promise-id",
      "x-http2-stream-dependency-id", "x-http2-stream-weight", "x-http2-path");
  private static final Pattern PLAIN_NAME = Pattern.compile("[a-z][a-z0-9-]{0,30}");
  private static final Pattern PLAIN_VALUE = Pattern.compile("[!-~]([ -~]{0,198}[!-~])?");
  private static final Pattern PLAIN_PATH = Pattern.compile("/([A-Za-z0-9_~-]+/?)*(\\?[A-Za-z0-9=&_-]*)?");
  private static final Pattern PLAIN_AUTHORITY = Pattern.compile("[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,3}(:[1-9][0-9]{0,3})?");
  private static final Set<String> PLAIN_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

  private Http2RequestRules() {}

  /** Why the request must be refused (malformed by RFC 9113 sections 8.1.1, 8.2 and 8.3, or CONNECT), or null. */
  static String reasonToRefuse(Http2RequestScript request) {
    List<Frame> later = request.laterHeaders();
    if (later.size() > 1 || (later.size() == 1 && !request.frames.get(request.frames.size() - 1).isHeaders())) {
      return "HEADERS after the trailers, or DATA after them";
    }
    String bad = fieldProblem(request.head(), true);
    if (bad == null && !later.isEmpty()) {
      bad = fieldProblem(later.get(0).fields(), false);
    }
    if (bad != null) {
      return bad;
    }
    boolean regularSeen = false;
    List<String> pseudoSeen = new ArrayList<>();
    for (Field field : request.head()) {
      if (!field.isPseudo()) {
        regularSeen = true;
        continue;
      }
      String name = field.nameText();
      if (regularSeen || !PSEUDO.contains(name) || pseudoSeen.contains(name)) {
        return "pseudo-header field " + name + " unknown, repeated or after a regular field";
      }
      pseudoSeen.add(name);
    }
    String method = value(request.head(), ":method");
    if (method == null || "CONNECT".equals(method)) {
      return "no :method, or CONNECT (refused: 405)";
    }
    String path = value(request.head(), ":path");
    if (path == null || value(request.head(), ":scheme") == null) {
      return "no :path or no :scheme";
    }
    if (!path.startsWith("/") && !path.equals("*")) {
      return ":path is neither an absolute path nor '*'";
    }
    String authority = value(request.head(), ":authority");
    List<String> hosts = values(request.head(), "host");
    if (hosts.size() > 1 || (authority != null && !hosts.isEmpty() && !hosts.get(0).equalsIgnoreCase(authority))) {
      return "more than one Host, or a Host other than :authority";
    }
    for (String length : values(request.head(), "content-length")) {
      if (!length.matches("[0-9]{1,18}") || Long.parseLong(length) != request.body().length) {
        return "content-length " + length + " with " + request.body().length + " DATA bytes";
      }
    }
    return null;
  }

  /** The first problem RFC 9113 section 8.2 finds with a block's fields, or null. */
  private static String fieldProblem(List<Field> fields, boolean head) {
    for (Field field : fields) {
      byte[] name = field.name();
      if (name.length == 0) {
        return "an empty field name";
      }
      for (int i = head && name[0] == ':' ? 1 : 0; i < name.length; i++) {
        int c = name[i] & 0xff;
        if (c <= 0x20 || (c >= 'A' && c <= 'Z') || c >= 0x7f || c == ':') {
          return "field name '" + field.nameText() + "' has a byte HTTP/2 forbids";
        }
      }
      byte[] value = field.value();
      for (byte b : value) {
        if (b == 0 || b == '\r' || b == '\n') {
          return "field '" + field.nameText() + "' has a NUL, CR or LF";
        }
      }
      if (value.length > 0 && (isSpace(value[0]) || isSpace(value[value.length - 1]))) {
        return "field '" + field.nameText() + "' starts or ends with whitespace";
      }
      String lower = field.nameText();
      if (CONNECTION_SPECIFIC.contains(lower) || ("te".equals(lower) && !"trailers".equalsIgnoreCase(field.valueText()))) {
        return "connection-specific field " + lower;
      }
    }
    return null;
  }

  /**
   * Whether nothing about the request gives a proxy cause to refuse it: a common method, a plain path
   * and authority, a few plain fields and trailers, a content-length that matches, a body within the
   * windows. Such a request must reach the backend.
   */
  static boolean plainlyAcceptable(Http2RequestScript request) {
    if (reasonToRefuse(request) != null) {
      return false;
    }
    List<Field> head = request.head();
    String method = value(head, ":method");
    String authority = value(head, ":authority");
    if (!PLAIN_METHODS.contains(method) || !"http".equals(value(head, ":scheme"))
        || !PLAIN_PATH.matcher(value(head, ":path")).matches()
        || authority == null || !PLAIN_AUTHORITY.matcher(authority).matches()
        || head.size() > 40 || !values(head, "host").isEmpty()) {
      return false;
    }
    List<Field> fields = new ArrayList<>(head);
    request.laterHeaders().forEach(trailers -> fields.addAll(trailers.fields()));
    for (Field field : fields) {
      if (!field.isPseudo() && (!PLAIN_NAME.matcher(field.nameText()).matches()
          || !PLAIN_VALUE.matcher(field.valueText()).matches()
          || Set.of("te", "expect", "trailer", "host").contains(field.nameText()))) {
        return false;
      }
    }
    // Netty refuses a run of empty DATA frames (a flood); one empty frame that ends the stream is usual.
    List<Frame> frames = request.frames;
    for (int i = 1; i < frames.size() - 1; i++) {
      if (!frames.get(i).isHeaders() && frames.get(i).payload().length == 0) {
        return false;
      }
    }
    return true;
  }

  /** The fields a backend must see as the client sent them, "name: value", in order. */
  static List<String> endToEndFields(List<Field> fields) {
    return fields.stream().filter(f -> !f.isPseudo() && !PROXY_OWNED.contains(f.nameText()))
        .map(f -> f.nameText() + ": " + f.valueText()).toList();
  }

  /** What Meridian drops from a request's trailer section. */
  private static final Set<String> NEVER_IN_TRAILERS = Set.of("host", "content-length", "transfer-encoding",
      "trailer", "connection", "keep-alive", "proxy-connection", "te", "upgrade", "authorization",
      "proxy-authorization", "proxy-authenticate", "cookie", "set-cookie", "x-forwarded-for", "x-forwarded-proto",
      "x-forwarded-host", "forwarded", "via", "x-real-ip", "traceparent", "tracestate", "x-request-id",
      "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-server", "client-ip", "x-client-ip", "true-client-ip",
      "x-cluster-client-ip", "expect", "max-forwards", "cache-control", "pragma", "range", "if-match",
      "if-none-match", "if-modified-since", "if-unmodified-since", "if-range", "age", "expires", "date", "location",
      "retry-after", "vary", "www-authenticate", "x-http-method-override", "x-http-method", "x-method-override",
      "content-type", "content-encoding", "content-range", "content-language", "content-location");

  /** The forwarded fields ("name: value", names in lower case) but those the proxy owns, in order. */
  static List<String> endToEnd(List<String> forwarded) {
    return forwarded.stream().filter(f -> !PROXY_OWNED.contains(f.substring(0, f.indexOf(':')))).toList();
  }

  /**
   * The trailer fields a backend reads, "name: value": all but the framing, routing, hop-by-hop,
   * credential and forwarding fields, which a trailer section cannot change (RFC 9110 section 6.5.1).
   */
  static List<String> trailerFields(List<Field> trailers) {
    return trailers.stream()
        .filter(f -> !NEVER_IN_TRAILERS.contains(f.nameText()))
        .map(f -> f.nameText() + ": " + f.valueText()).toList();
  }

  /** The value of the first field named {@code name}, or null. */
  static String value(List<Field> fields, String name) {
    List<String> all = values(fields, name);
    return all.isEmpty() ? null : all.get(0);
  }

  /** The values of the fields named {@code name}, in order. */
  static List<String> values(List<Field> fields, String name) {
    byte[] wanted = name.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    return fields.stream().filter(f -> Arrays.equals(f.name(), wanted)).map(Field::valueText).toList();
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t';
  }
}
