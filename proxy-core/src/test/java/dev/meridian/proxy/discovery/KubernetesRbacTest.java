package dev.meridian.proxy.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code docker/kubernetes/rbac.yaml} grants the pod's ServiceAccount what {@link KubernetesBackendSource}
 * asks the API for: list and watch (and get) of EndpointSlices, through a Role bound to that account.
 */
class KubernetesRbacTest {
  /** The test runs in {@code proxy-core}; the manifests are in the project root's {@code docker/}. */
  private static final Path RBAC = Path.of("..", "docker", "kubernetes", "rbac.yaml");

  @Test
  void theServiceAccountMayGetListAndWatchEndpointSlices() throws Exception {
    List<JsonNode> documents = new ArrayList<>();
    new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class).readValues(RBAC.toFile())
        .forEachRemaining(d -> documents.add((JsonNode) d));
    Map<String, JsonNode> byKind = documents.stream()
        .collect(Collectors.toMap(d -> d.path("kind").asText(), Function.identity()));
    assertThat(byKind).containsOnlyKeys("ServiceAccount", "Role", "RoleBinding");
    documents.forEach(d -> assertThat(d.path("metadata").path("labels").path("app.kubernetes.io/name").asText())
        .as(d.path("kind").asText()).isEqualTo("meridian"));

    JsonNode rule = byKind.get("Role").path("rules").get(0);
    assertThat(texts(rule.path("apiGroups"))).containsExactly("discovery.k8s.io");
    assertThat(texts(rule.path("resources"))).containsExactly("endpointslices");
    assertThat(texts(rule.path("verbs"))).containsExactlyInAnyOrder("get", "list", "watch");

    JsonNode binding = byKind.get("RoleBinding");
    assertThat(binding.path("roleRef").path("kind").asText()).isEqualTo("Role");
    assertThat(binding.path("roleRef").path("name").asText())
        .isEqualTo(byKind.get("Role").path("metadata").path("name").asText());
    JsonNode subject = binding.path("subjects").get(0);
    assertThat(subject.path("kind").asText()).isEqualTo("ServiceAccount");
    assertThat(subject.path("name").asText())
        .isEqualTo(byKind.get("ServiceAccount").path("metadata").path("name").asText());
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
