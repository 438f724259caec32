package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.config.InvalidConfigException;
import dev.meridian.proxy.config.MeridianSettings.BackendLimitSettings;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestBackend.Reply;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A group's per-backend limit ({@code backend-groups.NAME.limits}) over real sockets: a backend never
 * gets more requests at once than {@code max-connections}; a full backend's requests go to another
 * with room, else wait in a bounded queue and are sent as slots come free; beyond {@code max-pending},
 * or after {@code queue-timeout}, they are answered 503 with Retry-After; a client that leaves gives
 * its place up; and every outcome is counted.
 */
class BackendLimitsTest {
  private static final String GET = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
  private final List<RawHttpClient> clients = new ArrayList<>();
  private final List<HoldingBackend> backends = new ArrayList<>();
  private ForwardingProxy proxy;

  /** A backend that holds every request until the test answers it, and records its peak concurrency. */
  private static final class HoldingBackend {
    final List<CompletableFuture<Reply>> held = new CopyOnWriteArrayList<>();
    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger peak = new AtomicInteger();
    final TestBackend server = TestBackend.start(request -> {
      peak.accumulateAndGet(open.incrementAndGet(), Math::max);
      CompletableFuture<Reply> reply = new CompletableFuture<>();
      held.add(reply);
      return Reply.when(reply);
    });

    /** Answers the {@code i}-th request it got. */
    void answer(int i) {
      open.decrementAndGet();
      held.get(i).complete(Reply.ok("done " + i));
    }

    void answerAll() {
      for (int i = 0; i < held.size(); i++) {
        if (!held.get(i).isDone()) {
          answer(i);
        }
      }
    }

    InetSocketAddress address() {
      return server.address();
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (RawHttpClient c : clients) {
      c.close();
    }
    backends.forEach(HoldingBackend::answerAll);
    if (proxy != null) {
      proxy.close();
    }
    backends.forEach(b -> b.server.close());
  }

  private HoldingBackend backend() {
    HoldingBackend b = new HoldingBackend();
    backends.add(b);
    return b;
  }

  private void start(String limits, HoldingBackend... to) throws Exception {
    InetSocketAddress[] addresses = new InetSocketAddress[to.length];
    for (int i = 0; i < to.length; i++) {
      addresses[i] = to[i].address();
    }
    proxy = ForwardingProxy.to(addresses).groupOption("limits { " + limits + " }")
        .set("admin { enabled = true, address = \"127.0.0.1:0\" }")
        .set("debug-headers = true") // the 503s say which limit refused them
        .start();
  }

  private RawHttpClient send() throws Exception {
    RawHttpClient c = proxy.connect();
    clients.add(c);
    return c.send(GET);
  }

  private double outcomes(String outcome) {
    Counter c = proxy.metrics().registry().find("meridian.backend.limit").tags("group", "app", "outcome", outcome)
        .counter();
    return c == null ? 0 : c.count();
  }

  private double queued() {
    Gauge g = proxy.metrics().registry().find("meridian.backend.queued").tag("group", "app").gauge();
    return g == null ? -1 : g.value();
  }

  @Test
  void aFullBackendQueuesRequestsBoundedInNumberAndTimeAndAnswersTheRest503WithRetryAfter() throws Exception {
    HoldingBackend backend = backend();
    start("max-connections = 2, max-pending = 2, queue-timeout = 1500ms", backend);
    RawHttpClient first = send();
    RawHttpClient second = send();
    await().atMost(Duration.ofSeconds(5)).until(() -> backend.held.size() == 2);

    RawHttpClient third = send();
    RawHttpClient fourth = send();
    await().atMost(Duration.ofSeconds(5)).until(() -> queued() == 2);
    JsonNode shown = new ObjectMapper().readTree(java.net.URI.create("http://127.0.0.1:"
        + proxy.adminAddress().getPort() + "/admin/api/backends").toURL()).path("app").path(0).path("limit");
    assertThat(List.of(shown.path("max-connections").asInt(), shown.path("busy").asInt(), shown.path("queued").asInt()))
        .as("the admin API: limit, busy, queued").containsExactly(2, 2, 2);
    RawHttpClient.RawResponse refused = send().readResponse();
    assertThat(refused.status()).as("the queue is full").isEqualTo(503);
    assertThat(refused.header("Retry-After")).isEqualTo("1");
    assertThat(outcomes("queue-full")).isEqualTo(1);
    assertThat(backend.held).as("the backend got only its limit").hasSize(2);

    backend.answer(0);
    assertThat(first.readResponse().bodyText()).isEqualTo("done 0");
    await().atMost(Duration.ofSeconds(5)).until(() -> backend.held.size() == 3);
    assertThat(outcomes("waited")).as("the third went when a slot came free").isEqualTo(1);

    long waitStarted = System.nanoTime();
    RawHttpClient.RawResponse timedOut = fourth.readResponse();
    assertThat(timedOut.status()).as("the fourth waited its queue-timeout").isEqualTo(503);
    assertThat(timedOut.header("Retry-After")).isEqualTo("1");
    assertThat(timedOut.bodyText()).contains("no connection came free within 1500 ms");
    assertThat(Duration.ofNanos(System.nanoTime() - waitStarted)).isLessThan(Duration.ofSeconds(5));
    assertThat(outcomes("queue-timeout")).isEqualTo(1);
    assertThat(queued()).isZero();

    backend.answer(1);
    backend.answer(2);
    assertThat(second.readResponse().bodyText()).isEqualTo("done 1");
    assertThat(third.readResponse().bodyText()).isEqualTo("done 2");
    assertThat(backend.peak.get()).as("never more than max-connections at once").isEqualTo(2);

    // Every slot came back: two more go straight through, side by side.
    RawHttpClient fifth = send();
    RawHttpClient sixth = send();
    await().atMost(Duration.ofSeconds(5)).until(() -> backend.held.size() == 5);
    assertThat(queued()).isZero();
    backend.answerAll();
    assertThat(fifth.readResponse().status()).isEqualTo(200);
    assertThat(sixth.readResponse().status()).isEqualTo(200);
  }

  @Test
  void aFullBackendsRequestGoesToAnotherWithRoomAndWaitsOnlyWhenAllAreFull() throws Exception {
    HoldingBackend a = backend();
    HoldingBackend b = backend();
    start("max-connections = 1, queue-timeout = 10s", a, b);
    RawHttpClient one = send();
    RawHttpClient two = send();
    await().atMost(Duration.ofSeconds(5)).until(() -> a.held.size() == 1 && b.held.size() == 1);
    b.answer(0);
    assertThat(two.readResponse().status()).isEqualTo(200);

    // Round robin now picks a, which is full: b takes it.
    RawHttpClient three = send();
    await().atMost(Duration.ofSeconds(5)).until(() -> b.held.size() == 2);
    assertThat(outcomes("spilled")).isEqualTo(1);
    assertThat(a.held).hasSize(1);

    // Both full: four waits for its first choice, b (three's spill took no turn of round robin's), and
    // takes b's slot when three's answer frees it, not a's.
    RawHttpClient four = send();
    await().atMost(Duration.ofSeconds(5)).until(() -> queued() == 1);
    b.answer(1);
    assertThat(three.readResponse().status()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> b.held.size() == 3);
    assertThat(a.held).hasSize(1);
    a.answerAll();
    b.answerAll();
    assertThat(one.readResponse().status()).isEqualTo(200);
    assertThat(four.readResponse().status()).isEqualTo(200);
    assertThat(a.peak.get()).isEqualTo(1);
    assertThat(b.peak.get()).isEqualTo(1);
  }

  @Test
  void aClientThatLeavesTheQueueGivesItsPlaceUpAndItsRequestIsNeverSent() throws Exception {
    HoldingBackend backend = backend();
    start("max-connections = 1, max-pending = 1, queue-timeout = 30s", backend);
    RawHttpClient holder = send();
    await().atMost(Duration.ofSeconds(5)).until(() -> backend.held.size() == 1);
    RawHttpClient leaving = send();
    await().atMost(Duration.ofSeconds(5)).until(() -> queued() == 1);
    leaving.socket().setSoLinger(true, 0); // a reset: the client is gone (a FIN alone may be a half-close)
    leaving.close();
    await().atMost(Duration.ofSeconds(5)).until(() -> queued() == 0);

    RawHttpClient next = send();
    await().atMost(Duration.ofSeconds(5)).until(() -> queued() == 1);
    assertThat(outcomes("queue-full")).as("the place was free again").isZero();
    backend.answer(0);
    assertThat(holder.readResponse().status()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> backend.held.size() == 2);
    backend.answer(1);
    assertThat(next.readResponse().bodyText()).isEqualTo("done 1");
    assertThat(backend.server.requests()).as("the request of the client that left never reached it").hasSize(2);
  }

  @Test
  void http2StreamsQueueLikeConnectionsAndAResetStreamLeavesTheQueue() throws Exception {
    HoldingBackend backend = backend();
    start("max-connections = 1, max-pending = 1, queue-timeout = 30s", backend);
    try (RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      h2.get(1, "/one");
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.held.size() == 1);
      h2.get(3, "/three");
      await().atMost(Duration.ofSeconds(5)).until(() -> queued() == 1);
      h2.get(5, "/five");
      h2.readUntil(c -> c.ended(5));
      assertThat(h2.status(5)).as("the queue is full").isEqualTo("503");

      h2.reset(3, RawHttp2Client.CANCEL);
      await().atMost(Duration.ofSeconds(5)).until(() -> queued() == 0);
      h2.get(7, "/seven");
      await().atMost(Duration.ofSeconds(5)).until(() -> queued() == 1);
      backend.answer(0);
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.held.size() == 2);
      backend.answer(1);
      h2.readUntil(c -> c.ended(1) && c.ended(7));
      assertThat(List.of(h2.status(1), h2.status(7))).containsExactly("200", "200");
      assertThat(backend.server.requests().stream().map(TestBackend.Request::uri))
          .as("the reset stream's request never reached the backend").containsExactly("/one", "/seven");
    }
  }

  @Test
  void limitsDefaultToNoneAndBadValuesAreRefusedWithFileLineAndKey() throws Exception {
    String base = "meridian {\n  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  routes = [ { backend-group = app } ]\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:9001\" } ]\n";
    var settings = SettingsLoader.parse(base + "  } }\n}\n", "test.conf");
    assertThat(settings.backendGroups().get("app").limits()).isEqualTo(BackendLimitSettings.NONE);
    assertThat(BackendLimitSettings.NONE.limited()).isFalse();

    var set = SettingsLoader.parse(base + "    limits { max-connections = 64, max-pending = 10, queue-timeout = 250ms }\n"
        + "  } }\n}\n", "test.conf");
    assertThat(set.backendGroups().get("app").limits())
        .isEqualTo(new BackendLimitSettings(64, 10, Duration.ofMillis(250)));

    InvalidConfigException e = catchThrowableOfType(() -> SettingsLoader.parse(base
        + "    limits { max-connections = -1, queue-timeout = 0s, max-queue = 3 }\n  } }\n}\n", "test.conf"),
        InvalidConfigException.class);
    assertThat(e.problems().stream().map(p -> p.line() + " " + p.key()).toList()).containsExactlyInAnyOrder(
        "5 meridian.backend-groups.app.limits.max-connections",
        "5 meridian.backend-groups.app.limits.queue-timeout",
        "5 meridian.backend-groups.app.limits.max-queue");
  }
}
