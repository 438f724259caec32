package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.metrics.ProxyMetrics;
import dev.meridian.proxy.testing.CapturedLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

/**
 * A listener whose accepts fail (EMFILE) stops accepting for a second and logs one line a second,
 * not a stack trace per failure at the pipeline's tail; the connection bound's pause is kept.
 */
class ListenerGateTest {
  @Test
  void anAcceptFailurePausesAcceptingForASecondAndIsLoggedOnceASecond() {
    ListenerGate gate = new ListenerGate("web", 10, 0, new ProxyMetrics(new SimpleMeterRegistry()).listener("web"));
    EmbeddedChannel server = new EmbeddedChannel(gate);
    try (CapturedLog log = CapturedLog.of(ListenerGate.class, Level.WARN)) {
      IOException emfile = new IOException("accept(..) failed with error(-24): Too many open files");
      server.pipeline().fireExceptionCaught(emfile);
      assertThat(server.config().isAutoRead()).as("accepting paused").isFalse();
      server.pipeline().fireExceptionCaught(emfile);
      server.pipeline().fireExceptionCaught(emfile);
      assertThat(log.messages()).as("one line for three failures").hasSize(1).first().asString()
          .contains("listener 'web'").contains("Too many open files").contains("accepting again in 1 s");
      server.advanceTimeBy(1, TimeUnit.SECONDS);
      server.runScheduledPendingTasks();
      assertThat(server.config().isAutoRead()).as("accepting again").isTrue();
      server.pipeline().fireExceptionCaught(emfile);
      assertThat(log.messages()).as("a second later, a line saying how many were left out").hasSize(2).last()
          .asString().contains("(3 since the last such line)");
      server.checkException(); // nothing reached the pipeline's tail
    } finally {
      server.finishAndReleaseAll();
    }
  }

  /** At the connection limit each close lets one in and the next fills it: a pause line a second, not one each. */
  @Test
  void pausesAtTheLimitAreLoggedOnceASecondWithHowManyWereLeftOut() {
    ListenerGate gate = new ListenerGate("web", 1, 0, new ProxyMetrics(new SimpleMeterRegistry()).listener("web"));
    EmbeddedChannel server = new EmbeddedChannel(gate);
    try (CapturedLog log = CapturedLog.of(ListenerGate.class, Level.INFO)) {
      for (int i = 0; i < 6; i++) {
        EmbeddedChannel client = new EmbeddedChannel();
        server.writeInbound(client);
        assertThat(server.config().isAutoRead()).as("paused at the limit").isFalse();
        client.close();
        server.runPendingTasks();
        assertThat(server.config().isAutoRead()).as("accepting again").isTrue();
      }
      assertThat(log.messages()).as("the first pause and its end, then nothing for five more within the second")
          .hasSize(2);
      server.advanceTimeBy(1, TimeUnit.SECONDS);
      server.writeInbound(new EmbeddedChannel());
      assertThat(log.messages()).hasSize(3).last().asString().contains("accepting paused")
          .contains("(and 5 more like it since the last logged)");
    } finally {
      server.finishAndReleaseAll();
    }
  }
}
