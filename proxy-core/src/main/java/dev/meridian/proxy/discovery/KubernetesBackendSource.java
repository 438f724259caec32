package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.BackendSourceSettings;
import dev.meridian.proxy.config.DiscoverySettings;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.file.Files;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Backends from a Kubernetes Service ({@code backends[] = { kubernetes { namespace, service, port } }}):
 * an informer lists the Service's EndpointSlices ({@code discovery.k8s.io/v1}, label
 * {@code kubernetes.io/service-name}) and then watches them; every change reports the complete list
 * ({@link EndpointSliceBackends}).
 *
 * <p>Failures: a list that fails (at start, or when the informer lists again) is reported as failed
 * and retried by the informer with back-off. A watch that drops is reconnected by the client on its
 * own and says nothing, so the watch is checked every {@code discovery.kubernetes.watch-check}: a
 * watch found not connected twice in a row is reported as failed, once per loss, and once it is back
 * the list is reported again. The last good list stays in force meanwhile.
 */
final class KubernetesBackendSource implements BackendSource {
  /** The label that ties an EndpointSlice to its Service. */
  static final String SERVICE_LABEL = "kubernetes.io/service-name";

  private final BackendSourceSettings.Kubernetes entry;
  private final DiscoverySettings.Kubernetes settings;
  private final ScheduledExecutorService checks;
  private BackendSource.Listener listener;
  private KubernetesClient client;
  private SharedIndexInformer<EndpointSlice> informer;
  private ScheduledFuture<?> watchCheck;
  /** How many checks in a row found the watch not connected. */
  private int notWatching;
  /** Whether the watch counts as lost (two checks in a row after the first list found it down). */
  private boolean lost;
  private boolean closed;

  KubernetesBackendSource(BackendSourceSettings.Kubernetes entry, DiscoverySettings.Kubernetes settings,
      ScheduledExecutorService checks) {
    this.entry = entry;
    this.settings = settings;
    this.checks = checks;
  }

  @Override
  public synchronized void start(BackendSource.Listener listener) {
    this.listener = listener;
    try {
      client = new KubernetesClientBuilder().withConfig(config(settings)).build();
    } catch (RuntimeException | IOException e) {
      listener.failed("cannot configure the Kubernetes client: " + e.getMessage());
      return;
    }
    String namespace = entry.namespace().isEmpty() ? client.getNamespace() : entry.namespace();
    informer = client.discovery().v1().endpointSlices().inNamespace(namespace == null ? "default" : namespace)
        .withLabel(SERVICE_LABEL, entry.service()).runnableInformer(0);
    informer.exceptionHandler((started, error) -> {
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      listener.failed("listing EndpointSlices from the Kubernetes API at " + client.getMasterUrl()
          + " failed (retrying): " + cause);
      return true;
    });
    informer.addEventHandler(new ResourceEventHandler<EndpointSlice>() {
      @Override
      public void onAdd(EndpointSlice slice) {
        report();
      }

      @Override
      public void onUpdate(EndpointSlice before, EndpointSlice after) {
        report();
      }

      @Override
      public void onDelete(EndpointSlice slice, boolean finalStateUnknown) {
        report();
      }

      @Override
      public void onNothing() {
        report();
      }
    });
    informer.start().whenComplete((ok, error) -> {
      if (error == null) {
        report();
      }
    });
    long every = settings.watchCheck().toNanos();
    watchCheck = checks.scheduleWithFixedDelay(this::checkWatch, every, every, TimeUnit.NANOSECONDS);
  }

  /**
   * The client configuration: a kubeconfig file, else automatic, with the master URL if given. A
   * request is not retried by the client itself (it would retry a list for minutes without a word):
   * the informer retries, with back-off, after reporting the failure.
   */
  static Config config(DiscoverySettings.Kubernetes settings) throws IOException {
    Config base = settings.kubeconfig().isPresent()
        ? Config.fromKubeconfig(null, Files.readString(settings.kubeconfig().get()), null)
        : Config.autoConfigure(null);
    ConfigBuilder builder = new ConfigBuilder(base).withRequestRetryBackoffLimit(0);
    if (!settings.masterUrl().isEmpty()) {
      builder.withMasterUrl(settings.masterUrl());
    }
    return builder.build();
  }

  /** Reports the informer's current slices as a complete list. */
  private void report() {
    BackendSource.Listener to;
    SharedIndexInformer<EndpointSlice> from;
    synchronized (this) {
      if (closed) {
        return;
      }
      to = listener;
      from = informer;
    }
    to.found(EndpointSliceBackends.backends(from.getStore().list(), entry));
  }

  /**
   * Reports a lost watch once, and the list again once the watch is back. The watch counts as lost
   * when two checks in a row, after the first list, found it not connected (a single check may fall
   * between a list and the watch it starts).
   */
  private void checkWatch() {
    boolean watching = informer.isWatching();
    synchronized (this) {
      if (closed || !informer.hasSynced()) {
        return;
      }
      notWatching = watching ? 0 : notWatching + 1;
      boolean nowLost = notWatching >= 2;
      if (nowLost == lost) {
        return;
      }
      lost = nowLost;
      if (lost) {
        listener.failed("the watch of EndpointSlices is lost; the Kubernetes API at " + client.getMasterUrl()
            + " does not answer (reconnecting)");
        return;
      }
    }
    report();
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (watchCheck != null) {
        watchCheck.cancel(false);
      }
    }
    if (informer != null) {
      informer.stop();
    }
    if (client != null) {
      client.close();
    }
  }

  @Override
  public String describe() {
    return "kubernetes " + (entry.namespace().isEmpty() ? "" : entry.namespace() + "/") + entry.service() + ":"
        + entry.port();
  }
}
