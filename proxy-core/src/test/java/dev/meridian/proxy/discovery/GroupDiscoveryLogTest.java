package dev.meridian.proxy.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.config.HostPort;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import dev.meridian.proxy.testing.CapturedLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the log says of a discovery source's new list is what the group serves: an id a written
 * backend already has is "left out", not "added" (and its going is not "removed"), and an entry
 * moved to another address is "changed". (An operator read "added [f0]" for an entry the group
 * ignored, and saw nothing of a move.)
 */
class GroupDiscoveryLogTest {
  private CapturedLog log;

  @BeforeEach
  void catchLog() {
    log = CapturedLog.of(GroupDiscovery.class, Level.INFO);
  }

  @AfterEach
  void release() {
    log.close();
  }

  private static BackendSettings backend(String id, int port) {
    return new BackendSettings(id, new HostPort("127.0.0.1", port), "default", "", 1);
  }

  /** A source the test reports through. */
  private static final class HandFed implements BackendSource {
    Listener listener;

    @Override
    public void start(Listener listener) {
      this.listener = listener;
    }

    @Override
    public void close() {}

    @Override
    public String describe() {
      return "file fb.json";
    }
  }

  @Test
  void takenIdsAreLeftOutAndMovesAreChanges() {
    HandFed file = new HandFed();
    List<BackendSettings> written = List.of(backend("f0", 45004));
    try (GroupDiscovery discovery = new GroupDiscovery("app", List.of(file), List.of(), written,
        new SimpleMeterRegistry(), () -> { })) {
      discovery.start();
      // As at start: the source's first report comes before the group's list is merged.
      file.listener.found(List.of(backend("f0", 45002), backend("file-3", 45003), backend("file-3", 45005)));
      assertThat(log.messages()).last().asString().contains("found 3 backend(s), added [file-3], left out [f0]");
      assertThat(discovery.merge(written)).containsExactly(backend("f0", 45004), backend("file-3", 45003));

      file.listener.found(List.of(backend("file-3", 45002)));
      assertThat(log.messages()).last().asString().isEqualTo("group 'app': file fb.json found 1 backend(s), changed [file-3]");
    }
  }

  @Test
  void aFailureForAnotherReasonIsLoggedAndTheSameOneOnce() {
    HandFed file = new HandFed();
    try (GroupDiscovery discovery = new GroupDiscovery("app", List.of(file), List.of(), List.of(),
        new SimpleMeterRegistry(), () -> { })) {
      discovery.start();
      file.listener.found(List.of(backend("f1", 45002)));
      file.listener.failed("fb.json: 3: backends.0.address: 'x:y' is not host:port");
      file.listener.failed("fb.json: 3: backends.0.address: 'x:y' is not host:port");
      file.listener.failed("fb.json: 1: not JSON");
      // A DNS timeout's text differs by its query id each try: the same failure, not logged again.
      file.listener.failed("[4711: /10.0.0.2:53] DefaultDnsQuestion(app.test. IN A) query timed out after 2000 milliseconds");
      file.listener.failed("[4712: /10.0.0.2:53] DefaultDnsQuestion(app.test. IN A) query timed out after 2000 milliseconds");
      assertThat(log.messages()).filteredOn(m -> m.contains("fail")).containsExactly(
          "group 'app': file fb.json failed, keeping the last good list (1 backend(s)):"
              + " fb.json: 3: backends.0.address: 'x:y' is not host:port",
          "group 'app': file fb.json still failing, for another reason, keeping the last good list (1 backend(s)):"
              + " fb.json: 1: not JSON",
          "group 'app': file fb.json still failing, for another reason, keeping the last good list (1 backend(s)):"
              + " [4711: /10.0.0.2:53] DefaultDnsQuestion(app.test. IN A) query timed out after 2000 milliseconds");
      file.listener.found(List.of(backend("f1", 45002)));
      file.listener.failed("fb.json: 1: not JSON");
      assertThat(log.messages()).last().asString().startsWith("group 'app': file fb.json failed,");
    }
  }
}
