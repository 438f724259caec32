package dev.meridian.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which state-changing admin calls a browser page may make, by their Host and Origin. */
class AdminRequestGuardTest {
  private final AdminRequestGuard guard = new AdminRequestGuard(List.of("admin.example.internal"));

  private String refusal(String host, String origin) {
    HttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/admin/api/reload");
    request.headers().set("Host", host).set("Origin", origin);
    return guard.refusal(request, "/admin/api/reload");
  }

  @Test
  void theAdminPagesOwnOriginPasses() {
    assertThat(refusal("127.0.0.1:9901", "http://127.0.0.1:9901")).isNull();
    assertThat(refusal("127.0.0.1", "http://127.0.0.1")).as("port 80 on both").isNull();
    assertThat(refusal("localhost", "https://localhost:443")).as("behind a proxy terminating TLS").isNull();
  }

  @Test
  void aPageOnAnotherPortOfTheSameHostIsAnotherOrigin() {
    assertThat(refusal("127.0.0.1:9901", "http://127.0.0.1:9902")).isNotNull();
    assertThat(refusal("127.0.0.1", "http://127.0.0.1:40080")).as("a Host without a port is port 80's").isNotNull();
    assertThat(refusal("127.0.0.1", "https://127.0.0.1:8443")).isNotNull();
  }

  @Test
  void aListedNamePassesOnAnyPortBehindAProxyThatTookThePortOff() {
    assertThat(refusal("admin.example.internal", "https://admin.example.internal:8443")).isNull();
    assertThat(refusal("admin.example.internal", "https://evil.example")).isNotNull();
  }
}
