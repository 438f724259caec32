package dev.meridian.health;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How one backend group is actively checked: an HTTP GET (or HEAD) or a TCP connect, on the backend's
 * port or another, how often, and how many
 * results in a row change a backend's state. Built by the proxy's config reader; validated here.
 *
 * @param type                 {@code "http"} (default) or {@code "tcp"}
 * @param path                 HTTP path and query to GET, default {@code "/healthz"}; ignored for tcp
 * @param statusFrom           lowest passing HTTP status, default 200
 * @param statusTo             highest passing HTTP status, default 399 (config {@code "200-399"})
 * @param bodyContains         text the HTTP body must contain (first 64 KiB searched); default none
 * @param hostHeader           Host header to send; default the backend's {@code host:port}
 * @param interval             time between checks of an available backend, default 2 s; each wait is
 *                             jittered by +-10% so many backends' checks don't align
 * @param downInterval         time between checks of a backend that is out, default = {@code interval}
 *                             (pass null to mean "same as interval")
 * @param timeout              the whole check (connect, request, response) must finish in this, default 1 s
 * @param rise                 passes in a row that make an out backend available, default 2
 * @param fall                 failures in a row that mark an available backend out, default 3
 * @param initiallyAvailable   true (default): available until the first check says otherwise; false:
 *                             out until its first passing check (one pass is enough then)
 * @param replicationLagHeader response header carrying the backend's replication lag in seconds
 *                             (decimals allowed), e.g. {@code X-Replication-Lag}; default none (off)
 * @param maxReplicationLag    lag above which the backend is skipped for reads (still used for writes);
 *                             default 5 s, only meaningful with a header
 * @param port                 port checked instead of the backend's (a management port), 0 for the
 *                             backend's own (default)
 * @param method               {@code GET} (default) or {@code HEAD}; HEAD cannot check a body
 * @param headers              header fields added to an HTTP check's request (an Authorization, a
 *                             probe marker); not Host (see {@code hostHeader}) nor framing fields
 */
public record ActiveCheckSettings(
    String type,
    String path,
    int statusFrom,
    int statusTo,
    Optional<String> bodyContains,
    Optional<String> hostHeader,
    Duration interval,
    Duration downInterval,
    Duration timeout,
    int rise,
    int fall,
    boolean initiallyAvailable,
    Optional<String> replicationLagHeader,
    Duration maxReplicationLag,
    int port,
    String method,
    java.util.Map<String, String> headers) {

  /** Type of a check that GETs {@link #path()}. */
  public static final String HTTP = "http";
  /** Type of a check that only opens a TCP connection. */
  public static final String TCP = "tcp";

  /** Every default: HTTP GET /healthz expecting 200-399 every 2 s, timeout 1 s, rise 2, fall 3. */
  public static final ActiveCheckSettings DEFAULTS = new ActiveCheckSettings(HTTP, "/healthz", 200, 399,
      Optional.empty(), Optional.empty(), Duration.ofSeconds(2), null, Duration.ofSeconds(1), 2, 3, true,
      Optional.empty(), Duration.ofSeconds(5), 0, "GET", java.util.Map.of());

  /** Header fields a check's request may not be given: Host has its own setting, the rest frame it. */
  private static final java.util.Set<String> RESERVED_HEADERS = java.util.Set.of("host", "content-length",
      "transfer-encoding", "connection", "upgrade", "te", "expect", "keep-alive", "proxy-connection");

  /** Checks every value; {@code downInterval} null becomes {@code interval}. */
  public ActiveCheckSettings {
    Objects.requireNonNull(type, "type");
    check(type.equals(HTTP) || type.equals(TCP), "type: %s (expected: http or tcp)", type);
    Objects.requireNonNull(path, "path");
    check(type.equals(TCP) || path.startsWith("/"), "path: '%s' (expected: starts with /)", path);
    check(type.equals(TCP) || isVisibleAscii(path), "path: %s (expected: visible ASCII, no space or control"
        + " character; percent-encode the rest)", path.strip());
    check(statusFrom >= 100 && statusTo <= 599 && statusFrom <= statusTo,
        "expect-status: %s (expected: a range inside 100-599, e.g. 200-399)", statusFrom + "-" + statusTo);
    bodyContains = Objects.requireNonNull(bodyContains, "bodyContains").filter(s -> !s.isEmpty());
    hostHeader = Objects.requireNonNull(hostHeader, "hostHeader").filter(s -> !s.isEmpty());
    hostHeader.ifPresent(h -> check(isVisibleAscii(h), "host: %s (expected: a host name and optional port)",
        h.strip()));
    checkPositive(interval, "interval");
    downInterval = downInterval == null ? interval : downInterval;
    checkPositive(downInterval, "down-interval");
    checkPositive(timeout, "timeout");
    check(rise >= 1, "rise: %s (expected: >= 1)", rise);
    check(fall >= 1, "fall: %s (expected: >= 1)", fall);
    replicationLagHeader = Objects.requireNonNull(replicationLagHeader, "replicationLagHeader")
        .filter(s -> !s.isEmpty());
    Objects.requireNonNull(maxReplicationLag, "maxReplicationLag");
    check(!maxReplicationLag.isNegative(), "replication-lag.max: %s (expected: >= 0)", maxReplicationLag);
    check(port >= 0 && port <= 65535, "port: %s (expected: 1-65535, or 0 for the backend's own)", port);
    Objects.requireNonNull(method, "method");
    check(method.equals("GET") || method.equals("HEAD"), "method: %s (expected: GET or HEAD)", method);
    check(!(method.equals("HEAD") && bodyContains.isPresent()), "method: %s (expected: GET with body-contains:"
        + " a HEAD answer has no body)", method);
    headers = java.util.Map.copyOf(Objects.requireNonNull(headers, "headers"));
    check(type.equals(HTTP) || (headers.isEmpty() && method.equals("GET")),
        "type: %s (expected: http for method and headers, which a tcp check does not send)", type);
    for (java.util.Map.Entry<String, String> field : headers.entrySet()) {
      check(field.getKey().matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+"), "headers: '%s' (expected: a field name)",
          field.getKey());
      check(!RESERVED_HEADERS.contains(field.getKey().toLowerCase(java.util.Locale.ROOT)),
          "headers: %s (expected: none of Host (use host), Content-Length, Transfer-Encoding, Connection,"
              + " Keep-Alive, Proxy-Connection, Upgrade, TE, Expect)", field.getKey());
      String value = field.getValue();
      check(value.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c < 0x7f)),
          "headers: the value of %s holds a control or non-ASCII character (expected: visible ASCII text)",
          field.getKey());
      check(value.isEmpty() || (value.charAt(0) > ' ' && value.charAt(value.length() - 1) > ' '),
          "headers: the value of %s starts or ends with whitespace (expected: text without it)", field.getKey());
    }
  }

  /** The defaults with another check type ({@code "http"} or {@code "tcp"}). */
  public static ActiveCheckSettings ofType(String type) {
    ActiveCheckSettings d = DEFAULTS;
    return new ActiveCheckSettings(type, d.path, d.statusFrom, d.statusTo, d.bodyContains, d.hostHeader,
        d.interval, d.downInterval, d.timeout, d.rise, d.fall, d.initiallyAvailable, d.replicationLagHeader,
        d.maxReplicationLag, d.port, d.method, d.headers);
  }

  /** Whether this is an HTTP check (else TCP). */
  public boolean isHttp() {
    return type.equals(HTTP);
  }

  /** Whether a status passes. */
  public boolean statusPasses(int status) {
    return status >= statusFrom && status <= statusTo;
  }

  private static boolean isVisibleAscii(String text) {
    return !text.isEmpty() && text.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }

  static void check(boolean condition, String format, Object value) {
    if (!condition) {
      throw new IllegalArgumentException(String.format(format, value));
    }
  }

  private static void checkPositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    check(!d.isNegative() && !d.isZero(), name + ": %s (expected: > 0)", d);
  }
}
