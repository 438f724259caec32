package dev.meridian.proxy.server;

import dev.meridian.balancer.geo.TrustedProxies;
import dev.meridian.proxy.config.MeridianSettings.LimitSettings;
import dev.meridian.proxy.http1.ServerHttpCodec;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import dev.meridian.tls.CertificateReloader;
import io.netty.handler.ssl.SniHandler;
import dev.meridian.proxy.transport.IdleTimeoutHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Builds the pipeline of each accepted client connection.
 *
 * <pre>
 *  socket --> [proxy-protocol] listeners with proxy-protocol-from: the PROXY header (v1/v2) read,
 *                         its client and destination recorded (ProxyProtocolReader); then both
 *                         leave the pipeline
 *         --> [idle]      IdleTimeoutHandler: client idle timeout
 *         --> [detect]    cleartext: ProtocolDetector: HTTP/2 preface or HTTP/1.x, or
 *             [sni][alpn] TLS: SniHandler picks the certificate, ALPN picks h2 or http/1.1;
 *                         then one of:
 *
 *  HTTP/1.x:
 *         --> [codec]     ServerHttpCodec: strict HTTP/1.1 heads read in place (RawRequest), body
 *                         slices, limits; HEAD-aware response encode
 *         --> [frontend]  FrontendHandler: sequences requests through their phases (see package-info)
 *  HTTP/2 (prior knowledge): see {@link Http2Connection}
 *
 *  after a 101 Switching Protocols, [codec] and [frontend] are replaced by
 *         --> [tunnel]    TunnelHandler: raw bytes both ways
 * </pre>
 *
 * <p>Thread safety: each pipeline is built and used on its channel's event loop.
 */
final class ClientChannelInitializer extends ChannelInitializer<Channel> {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClientChannelInitializer.class);
  private final ProxyContext context;
  private final ChannelGroup clients;
  private final ChannelGroup listenerClients;
  /** How new connections are set up; a reload may replace it (connections already set up keep theirs). */
  private volatile Setup setup;

  /**
   * What a connection of the listener starts with.
   *
   * @param tls               the listener's certificates, or null for a cleartext listener
   * @param proxyProtocolFrom the load balancers that open each connection with a PROXY protocol
   *                          header, or null when the listener takes no such header
   */
  private record Setup(CertificateReloader tls, TrustedProxies proxyProtocolFrom) {}

  /**
   * Creates the initializer of one listener.
   *
   * @param clients           every client connection of the server (shutdown drains them)
   * @param listenerClients   this listener's client connections (closing the listener drains them)
   * @param tls               the listener's certificates, or null for a cleartext listener
   * @param proxyProtocolFrom the load balancers that open each connection with a PROXY protocol
   *                          header, or null when the listener takes no such header
   */
  ClientChannelInitializer(ProxyContext context, ChannelGroup clients, ChannelGroup listenerClients,
      CertificateReloader tls, TrustedProxies proxyProtocolFrom) {
    this.context = context;
    this.clients = clients;
    this.listenerClients = listenerClients;
    this.setup = new Setup(tls, proxyProtocolFrom);
  }

  /** The load balancers a listener takes the PROXY protocol from, or null when it takes none. */
  static TrustedProxies proxyProtocolFrom(dev.meridian.proxy.config.MeridianSettings.ListenerSettings listener) {
    return listener.proxyProtocolFrom().isEmpty() ? null : TrustedProxies.of(listener.proxyProtocolFrom());
  }

  /** Sets up connections accepted from now on with these certificates and PROXY protocol senders. */
  void retune(CertificateReloader tls, TrustedProxies proxyProtocolFrom) {
    this.setup = new Setup(tls, proxyProtocolFrom);
  }

  @Override
  protected void initChannel(Channel ch) {
    clients.add(ch);
    listenerClients.add(ch);
    Setup setup = this.setup;
    CertificateReloader tls = setup.tls();
    TrustedProxies proxyProtocolFrom = setup.proxyProtocolFrom();
    context.metrics.edge().connectionAccepted();
    if (proxyProtocolFrom != null) {
      if (!(ch.remoteAddress() instanceof InetSocketAddress peer) || !proxyProtocolFrom.isTrusted(peer.getAddress())) {
        log.info("{}: not a load balancer of proxy-protocol-from; connection closed", ch.remoteAddress());
        ch.close();
        return;
      }
      ProxyProtocolReader.install(ch);
    }
    RequestPolicies policies = context.policies();
    ch.config().setWriteBufferWaterMark(policies.clientWaterMark);
    ch.pipeline().addLast("idle", new IdleTimeoutHandler(
        policies.settings.timeouts().clientIdle().toMillis(), TimeUnit.MILLISECONDS));
    // Until a protocol is settled no request exists to time: the head's deadline applies from accept.
    Duration opening = policies.settings.limits().requestHeadTimeout();
    if (tls == null) {
      ch.pipeline().addLast(ProtocolDetector.NAME, new ProtocolDetector(
          () -> addHttp1(ch, "http", policies), () -> Http2Connection.install(ch.pipeline(), context, "http"),
          opening));
    } else {
      ch.pipeline()
          // Its SslHandler's handshake gets the opening deadline (Netty's default cut it at 10 s).
          .addLast("sni", new SniHandler(tls.mapping(), opening.isNegative() ? 0 : opening.toMillis()))
          .addLast(AlpnPipelineConfigurator.NAME, new AlpnPipelineConfigurator(
              () -> addHttp1(ch, "https", policies), () -> Http2Connection.install(ch.pipeline(), context, "https"),
              context.metrics.edge(), context.failureLog, opening));
    }
  }

  private void addHttp1(Channel ch, String scheme, RequestPolicies policies) {
    LimitSettings limits = policies.settings.limits();
    ServerHttpCodec codec = new ServerHttpCodec(limits.maxRequestLine(), limits.maxHeaderBytes(),
        limits.maxHeaderCount());
    ch.pipeline()
        .addLast("codec", codec)
        .addLast(FrontendHandler.NAME, new FrontendHandler(context, codec, scheme,
            new ConnectionMemo(context.metrics, context.trustedProxies)));
  }
}
