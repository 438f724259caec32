package dev.meridian.proxy.health;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.MeridianInstance;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads {@code /admin/api/backends} of a running proxy and answers small questions about one backend
 * ({@code available}, {@code ejected}, {@code replication-lag-ms}, its {@code out-reasons}). The document
 * is parsed with Jackson: an object of groups, each an array of backend objects with an {@code id}.
 */
final class AdminBackends {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String json;
  private final JsonNode groups;

  private AdminBackends(String json) {
    this.json = json;
    try {
      this.groups = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new AssertionError("the admin API answered invalid JSON: " + e.getOriginalMessage() + " in " + json, e);
    }
  }

  /** Fetches the current backends document. */
  static AdminBackends of(MeridianInstance proxy) {
    URI uri = URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/admin/api/backends");
    HttpResponse<String> response;
    try {
      response = CLIENT.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError("could not read " + uri, e);
    }
    if (response.statusCode() != 200) {
      throw new AssertionError("admin answered " + response.statusCode() + ": " + response.body());
    }
    return new AdminBackends(response.body());
  }

  /** The JSON object of the backend with this id (the first one, in document order). */
  JsonNode backend(String id) {
    for (JsonNode group : groups) {
      for (JsonNode backend : group) {
        if (id.equals(backend.path("id").textValue())) {
          return backend;
        }
      }
    }
    throw new AssertionError("no backend '" + id + "' in " + json);
  }

  boolean available(String id) {
    return backend(id).path("available").booleanValue();
  }

  boolean ejected(String id) {
    return backend(id).path("ejected").booleanValue();
  }

  /** The {@code out-reasons} object, reason by owner, e.g. {@code outlier -> "3 consecutive ..."}; empty when none. */
  Map<String, String> outReasons(String id) {
    JsonNode reasons = backend(id).path("out-reasons");
    return reasons.isObject() ? JSON.convertValue(reasons, new TypeReference<Map<String, String>>() {}) : Map.of();
  }

  /** The reported replication lag in milliseconds, or -1 when the backend has none. */
  long replicationLagMillis(String id) {
    JsonNode lag = backend(id).path("replication-lag-ms");
    return lag.isIntegralNumber() ? lag.longValue() : -1;
  }

  /** Every backend's {@code in-flight} count, by id; -1 for a backend that does not report one. */
  Map<String, Long> inFlight() {
    Map<String, Long> out = new TreeMap<>();
    for (JsonNode group : groups) {
      for (JsonNode backend : group) {
        String id = backend.path("id").textValue();
        JsonNode n = backend.path("in-flight");
        if (id != null) {
          out.putIfAbsent(id, n.isIntegralNumber() ? n.longValue() : -1L);
        }
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return json;
  }
}
