package dev.meridian.proxy.admin;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The dashboard's files, shipped in the jar and read once: the page at {@code /} (and
 * {@code /dashboard}), its script, its style sheet and its icon. Nothing is fetched from elsewhere, so the page
 * works offline.
 */
final class DashboardAssets {
  /** One file and its media type. */
  record Asset(byte[] bytes, String type) {
    /** A complete 200 response carrying the file. */
    FullHttpResponse response(ByteBufAllocator alloc) {
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
          alloc.buffer(bytes.length).writeBytes(bytes));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, type).set(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
          .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
          .set(HttpHeaderNames.DATE, dev.meridian.proxy.http.HttpDate.now())
          .set("Content-Security-Policy",
              "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
          .set("X-Frame-Options", "DENY") // no page may frame it and have an operator click its controls
          .set("X-Content-Type-Options", "nosniff");
      return r;
    }
  }

  private static final String BASE = "/dev/meridian/proxy/admin/dashboard/";
  private final Map<String, Asset> byPath;

  private DashboardAssets(Map<String, Asset> byPath) {
    this.byPath = byPath;
  }

  /** Reads the files from the class path. */
  static DashboardAssets load() {
    Asset page = read("index.html", "text/html; charset=utf-8");
    return new DashboardAssets(Map.of("/", page, "/dashboard", page,
        "/dashboard.js", read("dashboard.js", "text/javascript; charset=utf-8"),
        "/dashboard.css", read("dashboard.css", "text/css; charset=utf-8"),
        "/favicon.svg", read("favicon.svg", "image/svg+xml")));
  }

  /** The file served at this path, or null. */
  Asset get(String path) {
    return byPath.get(path);
  }

  private static Asset read(String name, String type) {
    try (InputStream in = DashboardAssets.class.getResourceAsStream(BASE + name)) {
      if (in == null) {
        throw new IllegalStateException("missing from the jar: " + BASE + name);
      }
      return new Asset(in.readAllBytes(), type);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
