package dev.meridian.proxy.drill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Talks to a Meridian admin listener for a drill: reads {@code /admin/api/regions}, posts controls. */
final class AdminClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final URI base;
  private final java.util.Optional<String> token;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  /**
   * A client for the admin listener at {@code base} ({@code http://127.0.0.1:9901}), sending the
   * admin token as {@code Authorization: Bearer} when there is one.
   */
  AdminClient(URI base, java.util.Optional<String> token) {
    this.token = token;
    String s = base.toString();
    this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
  }

  /** The admin listener's address, as given. */
  URI base() {
    return base;
  }

  /** {@code GET /admin/api/regions}, parsed. */
  JsonNode regions() {
    String body = call("GET", "/admin/api/regions");
    try {
      return JSON.readTree(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AdminException("the admin API at " + base + " answered something other than JSON: " + e.getOriginalMessage());
    }
  }

  /** POSTs to a control path (with its query); fails with the admin's answer when it is not 200. */
  String post(String pathAndQuery) {
    return call("POST", pathAndQuery);
  }

  /** DELETEs a control path. */
  String delete(String path) {
    return call("DELETE", path);
  }

  private String call(String method, String pathAndQuery) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + pathAndQuery))
        .timeout(Duration.ofSeconds(5)).method(method, HttpRequest.BodyPublishers.noBody());
    token.ifPresent(t -> builder.header("Authorization", "Bearer " + t));
    HttpRequest request = builder.build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AdminException(method + " " + pathAndQuery + ": admin answered " + response.statusCode() + ": "
            + response.body().trim());
      }
      return response.body();
    } catch (IOException e) {
      throw new AdminException("cannot reach the admin API at " + base + " (" + e + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminException("interrupted while calling " + base);
    }
  }

  /** The admin API could not be reached or refused a call. */
  static final class AdminException extends RuntimeException {
    AdminException(String message) {
      super(message);
    }
  }
}
