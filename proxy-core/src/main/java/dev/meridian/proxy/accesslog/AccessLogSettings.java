package dev.meridian.proxy.accesslog;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The access log's settings: {@code meridian.access-log}.
 *
 * @param enabled         whether requests are logged (default false)
 * @param file            the file lines go to; empty for standard output
 * @param sample          fraction of requests logged, 0 to 1 (default 1)
 * @param alwaysLogErrors every 5xx and every request left without an answer is logged whatever the sample
 * @param queueSize       lines that may wait for the writer, a power of two; beyond it lines are dropped
 * @param maxFileSize     a file is rotated when it reaches this many bytes
 * @param maxFiles        rotated files kept
 * @param compress        gzip rotated files (costs CPU on the proxy's cores at each rotation)
 * @param decisions       record why each backend was chosen (costs building that text per request)
 * @param query           record the request's query string (default true; off where queries carry secrets)
 * @param format          how a line is written: JSON, or the NCSA combined format
 * @param requestHeaders  request fields recorded (lower-case names), as the client sent them
 * @param responseHeaders response fields recorded (lower-case names), as the client got them
 */
public record AccessLogSettings(boolean enabled, Optional<Path> file, double sample, boolean alwaysLogErrors,
    int queueSize, long maxFileSize, int maxFiles, boolean compress, boolean decisions, boolean query,
    Format format, List<String> requestHeaders, List<String> responseHeaders) {

  /** How many fields each of {@code request-headers} and {@code response-headers} may name. */
  public static final int MAX_HEADERS = 32;

  /** How a line is written ({@code access-log.format}). */
  public enum Format {
    /** One JSON object a line, every field named ({@link AccessLogLine}). */
    JSON,
    /** The NCSA combined format nginx and Apache write by default ({@link CombinedLogLine}). */
    COMBINED
  }

  public AccessLogSettings {
    requestHeaders = List.copyOf(requestHeaders);
    responseHeaders = List.copyOf(responseHeaders);
  }

  /** The access log switched off. */
  public static AccessLogSettings off() {
    return new AccessLogSettings(false, Optional.empty(), 1.0, true, 16384, 100L << 20, 10, false, false, true,
        Format.JSON, List.of(), List.of());
  }
}
