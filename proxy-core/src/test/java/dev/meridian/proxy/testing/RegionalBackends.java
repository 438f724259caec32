package dev.meridian.proxy.testing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One {@link TestBackend} per region on 127.0.0.1 (backend id {@code REGION-1}), and the HOCON
 * backend list that names them, for the steering, control and drill tests.
 */
public final class RegionalBackends implements AutoCloseable {
  private final Map<String, TestBackend> byRegion = new LinkedHashMap<>();

  private RegionalBackends() {}

  /** Starts a backend for each region, answering with the responder made for its region. */
  public static RegionalBackends start(List<String> regions, Function<String, TestBackend.Responder> responder) {
    RegionalBackends backends = new RegionalBackends();
    for (String region : regions) {
      backends.byRegion.put(region, TestBackend.start(responder.apply(region)));
    }
    return backends;
  }

  /** The backend of a region. */
  public TestBackend get(String region) {
    return byRegion.get(region);
  }

  /** The backends as HOCON list elements, one a line: {@code { id = "eu-west-1", address = ..., region = "eu-west" }}. */
  public String hoconList() {
    StringBuilder list = new StringBuilder();
    byRegion.forEach((region, b) -> list.append(String.format(
        "{ id = \"%s-1\", address = \"127.0.0.1:%d\", region = \"%s\" }%n", region, b.port(), region)));
    return list.toString();
  }

  /** Closes every backend (closing one twice is harmless). */
  @Override
  public void close() {
    byRegion.values().forEach(TestBackend::close);
  }
}
