package dev.meridian.proxy.health;

import dev.meridian.proxy.MeridianInstance;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code /admin/api/backends} of a running proxy and answers small questions about one backend
 * ({@code available}, {@code ejected}, {@code replication-lag-ms}, its {@code out-reasons} text).
 * The admin JSON is compact and flat enough that a brace-matching scan finds one backend's object.
 */
final class AdminBackends {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

  private final String json;

  private AdminBackends(String json) {
    this.json = json;
  }

  /** Fetches the current backends document. */
  static AdminBackends of(MeridianInstance proxy) {
    URI uri = URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/admin/api/backends");
    try {
      HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AssertionError("admin answered " + response.statusCode() + ": " + response.body());
      }
      return new AdminBackends(response.body());
    } catch (Exception e) {
      throw new AssertionError("could not read " + uri, e);
    }
  }

  /** The JSON object of the backend with this id. */
  String backend(String id) {
    int at = json.indexOf("{\"id\":\"" + id + "\"");
    if (at < 0) {
      throw new AssertionError("no backend '" + id + "' in " + json);
    }
    int depth = 0;
    boolean inString = false;
    for (int i = at; i < json.length(); i++) {
      char c = json.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        return json.substring(at, i + 1);
      }
    }
    throw new AssertionError("unterminated backend object in " + json);
  }

  boolean available(String id) {
    return backend(id).contains("\"available\":true");
  }

  boolean ejected(String id) {
    return backend(id).contains("\"ejected\":true");
  }

  /** The {@code out-reasons} object as text, e.g. {@code {"outlier":"3 consecutive ..."}}. */
  String outReasons(String id) {
    String b = backend(id);
    int at = b.indexOf("\"out-reasons\":{");
    return at < 0 ? "" : b.substring(at + 14, b.indexOf('}', at) + 1);
  }

  /** The reported replication lag in milliseconds, or -1 when the backend has none. */
  long replicationLagMillis(String id) {
    Matcher m = Pattern.compile("\"replication-lag-ms\":(\\d+)").matcher(backend(id));
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  /** Every backend's {@code in-flight} count, by id. */
  java.util.Map<String, Long> inFlight() {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    Matcher m = Pattern.compile("\\{\"id\":\"([^\"]+)\"").matcher(json);
    while (m.find()) {
      Matcher n = Pattern.compile("\"in-flight\":(\\d+)").matcher(backend(m.group(1)));
      out.put(m.group(1), n.find() ? Long.parseLong(n.group(1)) : -1L);
    }
    return out;
  }

  @Override
  public String toString() {
    return json;
  }
}
