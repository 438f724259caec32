package dev.meridian.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks the manifests in {@code docker/kubernetes}: each parses into fabric8's model classes with no
 * unknown field, the ConfigMap's configuration passes {@code meridian check}, and the objects agree
 * with each other, with that configuration and with the Dockerfile (ports, probes, labels, image, user,
 * grace period against the drain timeout). No cluster is needed: nothing is applied.
 */
class KubernetesManifestsTest {
  private static final Path MANIFESTS = DeployFiles.DOCKER.resolve("kubernetes");
  private static final KubernetesSerialization KUBE = new KubernetesSerialization();

  @TempDir
  static Path dir;

  private static Deployment deployment;
  private static Container container;
  private static ConfigMap configMap;
  /** The ConfigMap's Meridian configuration, as {@code meridian check} read it. */
  private static MeridianSettings settings;

  @BeforeAll
  static void readManifests() throws Exception {
    deployment = manifest("deployment.yaml", Deployment.class);
    assertThat(deployment.getSpec().getTemplate().getSpec().getContainers()).hasSize(1);
    container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    configMap = manifest("configmap.yaml", ConfigMap.class);
    settings = DeployFiles.check(configText(), dir, "meridian.conf");
  }

  static Stream<String> manifests() throws IOException {
    try (Stream<Path> files = Files.list(MANIFESTS)) {
      return files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).sorted().toList().stream();
    }
  }

  @Test
  void kustomizationListsEveryManifest() throws Exception {
    Map<String, Object> kustomization = DeployFiles.yaml(MANIFESTS.resolve("kustomization.yaml"));

    assertThat(DeployFiles.list(kustomization.get("resources"), "kustomization resources"))
        .containsExactlyInAnyOrderElementsOf(manifests().toList());
  }

  @ParameterizedTest
  @MethodSource("manifests")
  void everyManifestParsesWithNoUnknownField(String name) throws Exception {
    for (HasMetadata object : objects(name)) {
      String where = name + " " + object.getKind();
      assertThat(object.getMetadata().getName()).as(where + ": metadata.name").isNotBlank();
      assertThat(object.getMetadata().getLabels()).as(where + ": labels").containsEntry("app.kubernetes.io/name", "meridian");
      assertNoUnknownField(object, where);
    }
  }

  @Test
  void theExpectedKindsAreThere() throws Exception {
    assertThat(manifests().flatMap(n -> {
      try {
        return objects(n).stream().map(HasMetadata::getKind);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    })).containsExactlyInAnyOrder("ConfigMap", "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy",
        "PodDisruptionBudget", "Service", "ServiceAccount", "Role", "RoleBinding");
  }

  /** The pod runs as the ServiceAccount rbac.yaml binds (Kubernetes discovery reads EndpointSlices with its token). */
  @Test
  void thePodRunsAsTheServiceAccountRbacBinds() throws Exception {
    HasMetadata account = objects("rbac.yaml").stream().filter(o -> o.getKind().equals("ServiceAccount"))
        .findFirst().orElseThrow();
    assertThat(deployment.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(account.getMetadata().getName());
    assertThat(deployment.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken()).isNotEqualTo(Boolean.FALSE);
  }

  @Test
  void configMapIsMountedWhereTheContainerReadsItsConfig() {
    List<String> args = container.getArgs();
    assertThat(args).hasSize(3).startsWith("run", "-c");
    Path file = Path.of(args.get(2));

    VolumeMount mount = container.getVolumeMounts().stream()
        .filter(m -> Path.of(m.getMountPath()).equals(file.getParent())).findFirst().orElseThrow();
    Volume volume = podSpec().getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
    assertThat(volume.getConfigMap().getName()).isEqualTo(configMap.getMetadata().getName());
    assertThat(configMap.getData()).containsKey(file.getFileName().toString());
    assertThat(mount.getReadOnly()).isTrue();
  }

  @Test
  void containerPortsAreTheConfiguredListenerAndAdminPorts() {
    assertThat(settings.listeners()).hasSize(1);
    assertThat(settings.listeners().get(0).address().host()).as("listener binds the pod's interfaces").isEqualTo("0.0.0.0");
    assertThat(settings.admin().enabled()).isTrue();
    assertThat(settings.admin().address().host()).as("admin binds the pod's interfaces for the probes").isEqualTo("0.0.0.0");

    assertThat(containerPort("http")).isEqualTo(settings.listeners().get(0).address().port());
    assertThat(containerPort("admin")).isEqualTo(settings.admin().address().port());
    assertThat(container.getPorts()).hasSize(2);
  }

  @Test
  void probesAskTheAdminListenerHealthzAndReadinessReadyz() {
    for (Probe probe : List.of(container.getStartupProbe(), container.getReadinessProbe(), container.getLivenessProbe())) {
      assertThat(port(probe.getHttpGet().getPort())).isEqualTo(settings.admin().address().port());
    }
    assertThat(container.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    // Readiness fails once the drain starts: the pod leaves the Service's endpoints while it drains.
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
  }

  /**
   * Starts Meridian on the ConfigMap's configuration (its listeners moved to loopback port 0, its
   * backends to a loopback port nobody listens on, so that nothing is resolved or dialled outside)
   * and asks every probe's path on the admin listener: each must answer 200, without a token.
   */
  @Test
  void probePathsAnswer200OnARunningMeridian() throws Exception {
    String local = configText() + "\nmeridian.listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "meridian.admin.address = \"127.0.0.1:0\"\n"
        + "meridian.backend-groups.app.backends = [ { id = \"local\", address = \"127.0.0.1:1\" } ]\n";
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try (MeridianInstance meridian = new MeridianInstance(SettingsLoader.parse(local, "configmap.yaml"))) {
      meridian.start();
      for (Probe probe : List.of(container.getStartupProbe(), container.getReadinessProbe(), container.getLivenessProbe())) {
        URI uri = URI.create("http://127.0.0.1:" + meridian.adminAddress().getPort() + probe.getHttpGet().getPath());
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET " + uri).isEqualTo(200);
      }
    }
  }

  @Test
  void graceCoversThePreStopWaitAndTheDrain() {
    List<String> preStop = container.getLifecycle().getPreStop().getExec().getCommand();
    assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
    long wait = Long.parseLong(preStop.get(1));
    long drain = settings.server().drainTimeout().toSeconds();

    assertThat(podSpec().getTerminationGracePeriodSeconds()).as("preStop %ss + drain-timeout %ss, and a margin", wait, drain)
        .isGreaterThan(wait + drain);
  }

  @Test
  void selectorsMatchThePodTemplate() throws Exception {
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    Service service = manifest("service.yaml", Service.class);
    PodDisruptionBudget budget = manifest("poddisruptionbudget.yaml", PodDisruptionBudget.class);
    NetworkPolicy policy = manifest("networkpolicy.yaml", NetworkPolicy.class);

    assertSelects(deployment.getSpec().getSelector(), podLabels, "Deployment");
    assertThat(service.getSpec().getSelector()).as("Service selector").isNotEmpty();
    assertThat(podLabels).as("Service selector").containsAllEntriesOf(service.getSpec().getSelector());
    assertSelects(budget.getSpec().getSelector(), podLabels, "PodDisruptionBudget");
    assertSelects(policy.getSpec().getPodSelector(), podLabels, "NetworkPolicy");
  }

  @Test
  void serviceSendsToTheClientListener() throws Exception {
    Service service = manifest("service.yaml", Service.class);

    assertThat(service.getSpec().getPorts()).hasSize(1);
    assertThat(port(service.getSpec().getPorts().get(0).getTargetPort())).isEqualTo(settings.listeners().get(0).address().port());
  }

  @Test
  void networkPolicyOpensTheAdminPortToSelectedPeersOnly() throws Exception {
    NetworkPolicy policy = manifest("networkpolicy.yaml", NetworkPolicy.class);
    int admin = settings.admin().address().port();
    int listener = settings.listeners().get(0).address().port();

    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
    List<NetworkPolicyIngressRule> rules = policy.getSpec().getIngress();
    List<NetworkPolicyIngressRule> adminRules = rules.stream().filter(r -> opens(r, admin)).toList();
    assertThat(adminRules).hasSize(1);
    assertThat(adminRules.get(0).getFrom()).as("peers allowed to the admin port").isNotEmpty();
    assertThat(adminRules.get(0).getPorts()).as("a rule naming its ports").isNotEmpty();
    assertThat(rules.stream().filter(r -> opens(r, listener))).as("a rule for the client port").hasSize(1);
  }

  @Test
  void autoscalerScalesTheDeploymentOnCpu() throws Exception {
    HorizontalPodAutoscaler hpa = manifest("horizontalpodautoscaler.yaml", HorizontalPodAutoscaler.class);
    PodDisruptionBudget budget = manifest("poddisruptionbudget.yaml", PodDisruptionBudget.class);

    assertThat(hpa.getApiVersion()).isEqualTo("autoscaling/v2");
    assertThat(hpa.getSpec().getScaleTargetRef().getApiVersion()).isEqualTo(deployment.getApiVersion());
    assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
    assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(deployment.getMetadata().getName());
    assertThat(hpa.getSpec().getMetrics()).singleElement().satisfies(m -> {
      assertThat(m.getResource().getName()).isEqualTo("cpu");
      assertThat(m.getResource().getTarget().getAverageUtilization()).isBetween(1, 100);
    });
    assertThat(deployment.getSpec().getReplicas()).as("replicas are the autoscaler's").isNull();
    assertThat(container.getResources().getRequests()).as("utilization is of the CPU request").containsKey("cpu");
    assertThat(budget.getSpec().getMaxUnavailable().getIntVal()).as("a disruption leaves one pod serving")
        .isLessThan(hpa.getSpec().getMinReplicas());
  }

  @Test
  void memoryRequestIsTheLimit() {
    assertThat(container.getResources().getRequests().get("memory"))
        .as("the heap is pre-touched at 75% of the limit: the request must cover it")
        .isEqualTo(container.getResources().getLimits().get("memory"));
  }

  @Test
  void imageAndUserAreTheDockerfiles() throws Exception {
    String dockerfile = Files.readString(DeployFiles.DOCKER.resolve("Dockerfile"));
    Matcher tag = Pattern.compile("docker build -f docker/Dockerfile -t (\\S+) \\.").matcher(dockerfile);
    assertThat(tag.find()).as("the Dockerfile's build command").isTrue();
    Matcher uid = Pattern.compile("useradd .*--uid (\\d+)").matcher(dockerfile);
    Matcher gid = Pattern.compile("groupadd .*--gid (\\d+)").matcher(dockerfile);
    assertThat(uid.find() && gid.find()).as("the Dockerfile's user").isTrue();

    assertThat(container.getImage()).isEqualTo(tag.group(1));
    PodSpec pod = podSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(Long.parseLong(uid.group(1)));
    assertThat(pod.getSecurityContext().getRunAsGroup()).isEqualTo(Long.parseLong(gid.group(1)));
    assertThat(dockerfile).contains("USER " + uid.group(1) + ":" + gid.group(1));
  }

  @Test
  void rootFilesystemIsReadOnlyWithAWritableTmp() {
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    VolumeMount tmp = container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp")).findFirst().orElseThrow();
    assertThat(podSpec().getVolumes().stream().filter(v -> v.getName().equals(tmp.getName())).findFirst().orElseThrow().getEmptyDir())
        .as("/tmp is an emptyDir").isNotNull();
  }

  private static PodSpec podSpec() {
    return deployment.getSpec().getTemplate().getSpec();
  }

  private static String configText() {
    String text = configMap.getData().get("meridian.conf");
    assertThat(text).as("configmap.yaml data meridian.conf").isNotBlank();
    return text;
  }

  /** Every object of a manifest file (one, or several separated by ---). */
  private static List<HasMetadata> objects(String name) throws IOException {
    try (InputStream in = Files.newInputStream(MANIFESTS.resolve(name))) {
      Object parsed = KUBE.unmarshal(in);
      List<?> all = parsed instanceof List<?> list ? list : List.of(parsed);
      assertThat(all).as(name).isNotEmpty().allSatisfy(o -> assertThat(o).isInstanceOf(HasMetadata.class));
      return all.stream().map(HasMetadata.class::cast).toList();
    }
  }

  private static <T> T manifest(String name, Class<T> type) throws IOException {
    try (InputStream in = Files.newInputStream(MANIFESTS.resolve(name))) {
      Object object = KUBE.unmarshal(in);
      assertThat(object).as(name).isInstanceOf(type);
      return type.cast(object);
    }
  }

  private static int containerPort(String name) {
    return container.getPorts().stream().filter(p -> name.equals(p.getName())).map(ContainerPort::getContainerPort)
        .findFirst().orElseThrow(() -> new AssertionError("no container port named " + name));
  }

  /** A port as a number, or the number of the container port it names. */
  private static int port(IntOrString port) {
    return port.getIntVal() != null ? port.getIntVal() : containerPort(port.getStrVal());
  }

  private static boolean opens(NetworkPolicyIngressRule rule, int port) {
    return rule.getPorts().stream().map(NetworkPolicyPort::getPort).anyMatch(p -> port(p) == port);
  }

  private static void assertSelects(LabelSelector selector, Map<String, String> podLabels, String who) {
    assertThat(selector.getMatchExpressions()).as(who + " matchExpressions").isNullOrEmpty();
    assertThat(selector.getMatchLabels()).as(who + " selector").isNotEmpty();
    assertThat(podLabels).as(who + " selector").containsAllEntriesOf(selector.getMatchLabels());
  }

  /**
   * Fails when fabric8 kept a field it does not know (a misspelt key such as {@code readinesProbe}
   * lands in some object's additional properties, where Kubernetes would reject or drop it).
   */
  private static void assertNoUnknownField(Object node, String path) throws Exception {
    if (node instanceof List<?> items) {
      for (int i = 0; i < items.size(); i++) {
        assertNoUnknownField(items.get(i), path + "[" + i + "]");
      }
    } else if (node instanceof Map<?, ?> entries) {
      for (Map.Entry<?, ?> e : entries.entrySet()) {
        assertNoUnknownField(e.getValue(), path + "." + e.getKey());
      }
    } else if (node != null && node.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
      for (Method getter : node.getClass().getMethods()) {
        if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) {
          continue;
        }
        Object value = getter.invoke(node);
        if (getter.getName().equals("getAdditionalProperties")) {
          assertThat((Map<?, ?>) value).as(path + ": fields the model does not know").isNullOrEmpty();
        } else {
          assertNoUnknownField(value, path + "." + getter.getName().substring(3));
        }
      }
    }
  }
}
