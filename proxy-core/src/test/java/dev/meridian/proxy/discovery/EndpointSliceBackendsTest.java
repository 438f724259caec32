package dev.meridian.proxy.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.config.BackendSourceSettings;
import dev.meridian.proxy.config.HostPort;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditionsBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which endpoints of which slices become backends, on which port, in which region. */
class EndpointSliceBackendsTest {
  private static final Map<String, String> ZONES = Map.of("eu-west-1a", "eu-west");

  private static BackendSourceSettings.Kubernetes entry(String portName, int portNumber, String region) {
    return new BackendSourceSettings.Kubernetes("w", "shop", "app", portName, portNumber, ZONES, region, "home", 2);
  }

  private static EndpointSliceBuilder slice(String addressType) {
    return new EndpointSliceBuilder().withNewMetadata().withName("s").endMetadata().withAddressType(addressType)
        .addNewPort().withName("http").withPort(8080).endPort()
        .addNewPort().withName("admin").withPort(9090).endPort();
  }

  private static EndpointBuilder endpoint(String address, Boolean ready, Boolean terminating) {
    return new EndpointBuilder().withAddresses(address).withConditions(new EndpointConditionsBuilder()
        .withReady(ready).withServing(ready).withTerminating(terminating).build());
  }

  private static List<String> ids(List<BackendSettings> backends) {
    return backends.stream().map(BackendSettings::id).toList();
  }

  @Test
  void readyOrUnknownEndpointsCountNotReadyOrTerminatingOnesDoNot() {
    EndpointSlice s = slice("IPv4").withEndpoints(
        endpoint("10.0.0.1", true, false).build(),
        endpoint("10.0.0.2", null, null).build(),
        new EndpointBuilder().withAddresses("10.0.0.3").build(),
        endpoint("10.0.0.4", false, null).build(),
        endpoint("10.0.0.5", true, true).build(),
        endpoint("10.0.0.6", false, true).build()).build();

    assertThat(ids(EndpointSliceBackends.backends(List.of(s), entry("http", 0, ""))))
        .containsExactly("10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080");
  }

  @Test
  void thePortIsFoundByNameOrNumberAndASliceWithoutItAddsNothing() {
    EndpointSlice s = slice("IPv4").withEndpoints(endpoint("10.0.0.1", true, null).build()).build();

    assertThat(ids(EndpointSliceBackends.backends(List.of(s), entry("admin", 0, "")))).containsExactly("10.0.0.1:9090");
    assertThat(ids(EndpointSliceBackends.backends(List.of(s), entry("", 9090, "")))).containsExactly("10.0.0.1:9090");
    assertThat(EndpointSliceBackends.backends(List.of(s), entry("grpc", 0, ""))).isEmpty();
    assertThat(EndpointSliceBackends.backends(List.of(s), entry("", 80, ""))).isEmpty();
  }

  @Test
  void theRegionComesFromTheZoneMapThenTheEntryThenTheZoneThenTheDefault() {
    EndpointSlice s = slice("IPv4").withEndpoints(
        endpoint("10.0.0.1", true, null).withZone("eu-west-1a").build(),
        endpoint("10.0.0.2", true, null).withZone("ap-south-1c").build(),
        endpoint("10.0.0.3", true, null).build()).build();

    List<BackendSettings> unwritten = EndpointSliceBackends.backends(List.of(s), entry("http", 0, ""));
    assertThat(unwritten).containsExactly(
        new BackendSettings("10.0.0.1:8080", new HostPort("10.0.0.1", 8080), "eu-west", "eu-west-1a", 2),
        new BackendSettings("10.0.0.2:8080", new HostPort("10.0.0.2", 8080), "ap-south-1c", "ap-south-1c", 2),
        new BackendSettings("10.0.0.3:8080", new HostPort("10.0.0.3", 8080), "home", "", 2));
    assertThat(EndpointSliceBackends.backends(List.of(s), entry("http", 0, "us")))
        .extracting(BackendSettings::region).containsExactly("eu-west", "us", "us");
  }

  @Test
  void ipv6AddressesAreBracketedAndAnAddressInTwoSlicesIsOneBackend() {
    EndpointSlice v6 = slice("IPv6").withEndpoints(endpoint("fd00::7", true, null).build()).build();
    EndpointSlice v4 = slice("IPv4").withEndpoints(endpoint("10.0.0.1", true, null).build()).build();
    EndpointSlice again = slice("IPv4").withEndpoints(endpoint("10.0.0.1", null, null).build()).build();

    assertThat(ids(EndpointSliceBackends.backends(List.of(v6, v4, again), entry("http", 0, ""))))
        .containsExactly("10.0.0.1:8080", "[fd00::7]:8080");
  }
}
