package dev.meridian.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.ConfigReloader;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import dev.meridian.tls.ServerTlsContexts;
import dev.meridian.tls.ServerTlsSettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS from Meridian to a backend: verified against the configured trust, failing closed on a name mismatch. */
class UpstreamTlsTest {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** An HTTPS backend on 127.0.0.1 answering "secure backend" to everything. */
  private InetSocketAddress startTlsBackend(CertificatePair cert) throws Exception {
    var context = ServerTlsContexts.build(ServerTlsSettings.of(cert.cert(), cert.key())).defaultContext();
    Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(context.newHandler(ch.alloc()), new HttpServerCodec(),
                new HttpObjectAggregator(1 << 16), new SimpleChannelInboundHandler<FullHttpRequest>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                    var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.copiedBuffer("secure backend", StandardCharsets.US_ASCII));
                    response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
                    ctx.writeAndFlush(response);
                  }
                });
          }
        }).bind("127.0.0.1", 0).sync().channel();
    return (InetSocketAddress) server.localAddress();
  }

  private static MeridianInstance proxy(InetSocketAddress backend, Path trust, String serverName) throws Exception {
    return proxy(backend, trust, serverName, "");
  }

  private static MeridianInstance proxy(InetSocketAddress backend, Path trust, String serverName, String extra)
      throws Exception {
    String hocon = "meridian {\n" + extra
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { enabled = false }\n"
        + "  upstream { connect-attempts = 1 }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + backend.getPort() + "\" } ]\n"
        + "    tls { trust = \"" + trust + "\", server-name = \"" + serverName + "\" } } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n";
    return new MeridianInstance(SettingsLoader.parse(hocon, "upstream-tls")).start();
  }

  private static RawHttpClient.RawResponse get(MeridianInstance proxy) throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.listenerAddresses().get(0))) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      return client.readResponse();
    }
  }

  @Test
  void verifiedBackendAnswersThroughTls(@TempDir Path dir) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir, "localhost");
    InetSocketAddress backend = startTlsBackend(cert);
    MeridianInstance proxy = proxy(backend, cert.cert(), "localhost");
    try {
      RawHttpClient.RawResponse response = get(proxy);
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("secure backend");
    } finally {
      proxy.stop(Duration.ZERO);
    }
  }

  /** A certificate the trust store refuses is named as such (with debug-headers, to the client too), not as a close. */
  @Test
  void anUntrustedCertificateIsReportedAsOne(@TempDir Path dir) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir.resolve("backend"), "localhost");
    CertificatePair other = SelfSignedCertificates.generate(dir.resolve("other"), "localhost");
    InetSocketAddress backend = startTlsBackend(cert);
    MeridianInstance proxy = proxy(backend, other.cert(), "localhost", "  debug-headers = true\n");
    try {
      RawHttpClient.RawResponse response = get(proxy);
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.bodyText()).contains("TLS handshake failed: certificate not trusted")
          .doesNotContain("closed the connection");
      assertThat(proxy.proxy().metrics().registry().find("meridian.upstream.failures").tag("kind", "tls").counter())
          .isNotNull().extracting(c -> c.count()).isEqualTo(1.0);
    } finally {
      proxy.stop(Duration.ZERO);
    }
  }

  @Test
  void hostnameMismatchFailsClosed(@TempDir Path dir) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir, "localhost");
    InetSocketAddress backend = startTlsBackend(cert);
    MeridianInstance proxy = proxy(backend, cert.cert(), "someone-else.test");
    try {
      assertThat(get(proxy).status()).isEqualTo(502);
    } finally {
      proxy.stop(Duration.ZERO);
    }
  }

  /**
   * A request in flight when a reload removes its group still reaches its backend as that group
   * said: over TLS. (It went in cleartext, its headers and body readable on the wire, when the pools
   * looked the backend's link up in the routing in force, which no longer named it.)
   */
  @Test
  void aRequestInFlightWhenAReloadRemovesItsGroupStillSpeaksTls(@TempDir Path dir) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir, "localhost");
    InetSocketAddress secure = startTlsBackend(cert);
    Path file = dir.resolve("meridian.conf");
    try (TestBackend plain = TestBackend.start(TestBackend.ok("plain"))) {
      Files.writeString(file, "meridian {\n"
          + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
          + "  admin { address = \"127.0.0.1:0\" }\n"
          + "  backend-groups { sec { backends = [ { address = \"127.0.0.1:" + secure.getPort() + "\", region = us-east } ]\n"
          + "    tls { trust = \"" + cert.cert() + "\", server-name = localhost } } }\n"
          + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"sec\" } ]\n"
          + "}\n");
      MeridianInstance proxy = new MeridianInstance(SettingsLoader.load(file)).start();
      HttpClient http = HttpClient.newHttpClient();
      try (ConfigReloader reloader = new ConfigReloader(file, proxy)) {
        // A drill's delay holds the request after its backend was picked, before it is connected.
        HttpResponse<String> fault = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + proxy.adminAddress().getPort() + "/admin/api/regions/sec/us-east/fault?delay=1500ms"))
            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(fault.statusCode()).isEqualTo(200);
        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(HttpRequest.newBuilder(URI.create(
            "http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/account?token=secret"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> proxy.proxy().metrics().inFlight() == 1);

        Files.writeString(file, "meridian {\n"
            + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
            + "  admin { address = \"127.0.0.1:0\" }\n"
            + "  backend-groups { other { backends = [ { address = \"127.0.0.1:" + plain.port() + "\" } ] } }\n"
            + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"other\" } ]\n"
            + "}\n");
        assertThat(reloader.reload().applied()).isTrue();
        assertThat(proxy.proxy().metrics().inFlight()).as("still held by the delay").isEqualTo(1);

        HttpResponse<String> answered = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(answered.statusCode()).isEqualTo(200);
        assertThat(answered.body()).isEqualTo("secure backend");
        assertThat(plain.requests()).isEmpty();
      } finally {
        proxy.stop(Duration.ZERO);
      }
    }
  }
}
