package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import io.grpc.ForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.MetadataUtils;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC end to end through Meridian: a grpc-java client calls the standard health service of a
 * grpc-java server (h2c behind Meridian), over h2c and over TLS (ALPN h2) in front. Unary and
 * server-streaming calls work; the status (also a trailers-only NOT_FOUND) and a custom trailer arrive.
 */
class GrpcPassThroughTest {
  private static final Metadata.Key<String> SERVED_BY =
      Metadata.Key.of("x-served-by", Metadata.ASCII_STRING_MARSHALLER);

  private final HealthStatusManager health = new HealthStatusManager();
  private Server server;
  private MeridianInstance proxy;
  private ManagedChannel channel;

  @BeforeEach
  void startGrpcServer() throws Exception {
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus("orders", ServingStatus.SERVING);
    server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(ServerInterceptors.intercept(health.getHealthService(), new TrailerStamp()))
        .build().start();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private void startProxy(String listenerTls) throws Exception {
    String hocon = "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" " + listenerTls + " } ]\n"
        + "  admin { enabled = false }\n"
        + "  server { event-loop-threads = 1 }\n"
        + "  backend-groups { grpc { protocol = h2c, backends = [ { address = \"127.0.0.1:"
        + server.getPort() + "\" } ] } }\n"
        + "  routes = [ { name = \"grpc\", path-prefix = \"/\", backend-group = \"grpc\" } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "grpc-test")).start();
  }

  private InetSocketAddress proxyAddress() {
    return proxy.listenerAddresses().get(0);
  }

  @Test
  void unaryAndStreamingCallsPassThroughH2c() throws Exception {
    startProxy("");
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", proxyAddress().getPort(),
        InsecureChannelCredentials.create()).build();
    assertCallsWork();
  }

  @Test
  void unaryAndStreamingCallsPassThroughTls(@TempDir Path dir) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir, "grpc.test");
    startProxy(", tls { certificates = [ { cert = \"" + cert.cert() + "\", key = \"" + cert.key() + "\" } ] }");
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", proxyAddress().getPort(),
            TlsChannelCredentials.newBuilder().trustManager(cert.cert().toFile()).build())
        .overrideAuthority("grpc.test").build();
    assertCallsWork();
  }

  private void assertCallsWork() {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    HealthGrpc.HealthBlockingStub stub = HealthGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
        .withDeadlineAfter(10, TimeUnit.SECONDS);

    HealthCheckResponse ok = stub.check(HealthCheckRequest.newBuilder().setService("orders").build());
    assertThat(ok.getStatus()).isEqualTo(ServingStatus.SERVING);
    assertThat(trailers.get().get(SERVED_BY)).isEqualTo("grpc-backend");
    assertThat(headers.get().get(Metadata.Key.of("via", Metadata.ASCII_STRING_MARSHALLER))).contains("meridian");

    // An unknown service: the server answers trailers-only (grpc-status 5 in the only HEADERS frame).
    trailers.set(null);
    assertThatThrownBy(() -> stub.check(HealthCheckRequest.newBuilder().setService("nope").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThat(trailers.get().get(SERVED_BY)).isEqualTo("grpc-backend");

    // Server streaming: the first status, then a change pushed while the stream is open.
    Iterator<HealthCheckResponse> watch = HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .watch(HealthCheckRequest.newBuilder().setService("orders").build());
    assertThat(watch.next().getStatus()).isEqualTo(ServingStatus.SERVING);
    health.setStatus("orders", ServingStatus.NOT_SERVING);
    assertThat(watch.next().getStatus()).isEqualTo(ServingStatus.NOT_SERVING);
  }

  /** Adds {@code x-served-by: grpc-backend} to every call's trailers. */
  private static final class TrailerStamp implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<Q, R>(call) {
        @Override
        public void close(Status status, Metadata trailers) {
          trailers.put(SERVED_BY, "grpc-backend");
          super.close(status, trailers);
        }
      }, headers);
    }
  }
}
