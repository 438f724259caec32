package dev.meridian.proxy.accesslog;

/**
 * One request's access log record: a pre-allocated slot of {@link AccessLog}'s ring, filled on an
 * event loop and read by the writer thread.
 *
 * <p>Fields are plain and public because the slot is reused: an event loop sets every field of a
 * claimed entry (null or 0 for what the request does not have) and publishes it; the writer formats
 * it and clears its references. Strings are the request's own (immutable), never copied.
 */
public final class AccessLogEntry {
  /** When the request head arrived, milliseconds since the epoch. */
  public long startEpochMillis;
  public CharSequence requestId;
  /** The request's {@code traceparent} as forwarded (the trace id is taken from it), or null. */
  public CharSequence traceparent;
  public String client;
  public String method;
  public String host;
  /** The request target's path, without the query. */
  public String path;
  /** {@code HTTP/1.0}, {@code HTTP/1.1} or {@code HTTP/2.0}. */
  public String protocol;
  /** The status sent; 499 when the client left before an answer. */
  public int status;
  public long bytesIn;
  public long bytesOut;
  /** From the head's arrival to the request's end, nanoseconds. */
  public long durationNanos;
  /** From the request sent to the backend's response headers, nanoseconds; -1 when no backend answered. */
  public long upstreamNanos;
  public String route;
  public String group;
  public String clientRegion;
  /** The region of the backend that answered, or null. */
  public String region;
  public String backend;
  /** The last backend's address (host:port, an IPv6 host in brackets), or null when none was picked. */
  public String upstreamAddr;
  /** The status of the last response a backend sent (0 when none did: Meridian answered itself). */
  public int upstreamStatus;
  /** Backends tried (0 when none was, such as a cache hit or a refusal). */
  public int attempts;
  /**
   * Why Meridian answered the request itself (a 502's "could not connect to backend a1", a 429's
   * limit), as its log line and debug-headers body say; null when a backend or the cache answered.
   */
  public String reason;
  /** What the edge cache did (HIT, MISS, ...) on a cached route, or null. */
  public String cache;
  /** What sticky sessions did (pinned, new, moved, ...) on a sticky route, or null. */
  public String sticky;
  /** Why the backend was chosen, when decisions are recorded, or null. */
  public String decision;
  /** The TLS version of the client connection, or null for cleartext. */
  public String tls;
  /** The server name the client asked for in TLS, or null. */
  public String sni;
  public String userAgent;
  /** The request target's query, without the '?', or null (none, or access-log.query off). */
  public String query;
  /** The Referer field, or null. */
  public String referer;
  /** The response had started and did not end (the backend or the client went away mid-response). */
  public boolean cutOff;
  /**
   * The values of the request fields {@code access-log.request-headers} names, in its order (several
   * lines of one field joined with ", "); null where the request had none.
   */
  public final String[] requestHeaders;
  /** The values of the response fields {@code access-log.response-headers} names, as the client got them. */
  public final String[] responseHeaders;
  /** The ring sequence this entry was claimed at (set by {@link AccessLog#claim}). */
  long sequence;
  /** Not a request: the writer reopens its output here ({@link AccessLog#reopen}). */
  boolean reopensOutput;

  /** An entry that records no header fields. */
  public AccessLogEntry() {
    this(0, 0);
  }

  /** An entry with room for this many recorded request and response fields. */
  public AccessLogEntry(int requestHeaders, int responseHeaders) {
    this.requestHeaders = new String[requestHeaders];
    this.responseHeaders = new String[responseHeaders];
  }

  /** Drops the references so the slot keeps nothing of a finished request alive. */
  void clear() {
    reopensOutput = false;
    requestId = null;
    traceparent = null;
    client = null;
    method = null;
    host = null;
    path = null;
    protocol = null;
    route = null;
    group = null;
    clientRegion = null;
    region = null;
    backend = null;
    upstreamAddr = null;
    upstreamStatus = 0;
    reason = null;
    cache = null;
    sticky = null;
    decision = null;
    tls = null;
    sni = null;
    userAgent = null;
    query = null;
    referer = null;
    cutOff = false;
    java.util.Arrays.fill(requestHeaders, null);
    java.util.Arrays.fill(responseHeaders, null);
  }
}
