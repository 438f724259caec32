package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.transport.Transport;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The proxy's basic duties on each transport this kernel runs, named explicitly: the rest of the
 * suite runs on the one {@code auto} picks (epoll on Linux), so this keeps io_uring, an option, and
 * NIO, the fallback, proven too. (The whole suite passed on io_uring on 2026-12-05.)
 */
class TransportMatrixTest {

  @ParameterizedTest
  @EnumSource(Transport.class)
  @Timeout(60)
  void concurrentBodiesCrossBothWaysIntact(Transport transport) throws Exception {
    assumeRuns(transport);
    int clients = 16;
    int bodyBytes = 256 * 1024;
    try (TestBackend backend = TestBackend.start(TestBackend.echo());
        ProxyFixture proxy = on(transport, backend)) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();
      List<byte[]> bodies = new ArrayList<>();
      List<CompletableFuture<HttpResponse<byte[]>>> answers = new ArrayList<>();
      Random random = new Random(42);
      for (int i = 0; i < clients; i++) {
        byte[] body = new byte[bodyBytes];
        random.nextBytes(body);
        bodies.add(body);
        answers.add(client.sendAsync(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/echo/" + i))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
            HttpResponse.BodyHandlers.ofByteArray()));
      }
      for (int i = 0; i < clients; i++) {
        HttpResponse<byte[]> answer = answers.get(i).get(40, TimeUnit.SECONDS);
        assertThat(answer.statusCode()).as("client %d", i).isEqualTo(200);
        assertThat(answer.body()).as("client %d's echoed body", i).isEqualTo(bodies.get(i));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  @Timeout(30)
  void pipelinedRequestsInOneWriteAreAnsweredInOrderAndAClosingOneEndsTheConnection(Transport transport)
      throws Exception {
    assumeRuns(transport);
    try (TestBackend backend = TestBackend.start(TestBackend.echo());
        ProxyFixture proxy = on(transport, backend);
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\n"
          + "POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\ntwo!!"
          + "GET /3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      RawResponse first = client.readResponse();
      RawResponse second = client.readResponse();
      RawResponse third = client.readResponse();

      assertThat(List.of(first.status(), second.status(), third.status())).containsExactly(200, 200, 200);
      assertThat(second.bodyText()).isEqualTo("two!!");
      assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/1", "/2", "/3");
      assertThat(client.isClosedByPeer(Duration.ofSeconds(5))).as("closed after the Connection: close answer")
          .isTrue();
    }
  }

  private static ProxyFixture on(Transport transport, TestBackend backend) throws Exception {
    ProxyFixture proxy = ProxyFixture.start(List.of(backend.port()),
        "meridian.server.transport = " + transport.configName());
    assertThat(proxy.instance().proxy().transport()).isEqualTo(transport);
    return proxy;
  }

  private static void assumeRuns(Transport transport) {
    assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable(), "epoll available");
    assumeTrue(transport != Transport.IO_URING || IoUring.isAvailable(), "io_uring available");
  }
}
