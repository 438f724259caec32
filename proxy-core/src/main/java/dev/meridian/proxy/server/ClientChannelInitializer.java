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

  private final CertificateReloader tls;
  private final TrustedProxies proxyProtocolFrom;

  /**
   * Creates the initializer of one listener.
   *
   * @param tls               the listener's certificates, or null for a cleartext listener
   * @param proxyProtocolFrom the load balancers that open each connection with a PROXY protocol
   *                          header, or null when the listener takes no such header
   */
  ClientChannelInitializer(ProxyContext context, ChannelGroup clients, CertificateReloader tls,
      TrustedProxies proxyProtocolFrom) {
    this.context = context;
    this.clients = clients;
    this.tls = tls;
    this.proxyProtocolFrom = proxyProtocolFrom;
  }

  @Override
  protected void initChannel(Channel ch) {
    clients.add(ch);
    context.metrics.edge().connectionAccepted();
    if (proxyProtocolFrom != null) {
      if (!(ch.remoteAddress() instanceof InetSocketAddress peer) || !proxyProtocolFrom.isTrusted(peer.getAddress())) {
        log.info("{}: not a load balancer of proxy-protocol-from; connection closed", ch.remoteAddress());
        ch.close();
        return;
      }
      ProxyProtocolReader.install(ch);
    }
    ch.pipeline().addLast("idle", new IdleTimeoutHandler(
        context.settings.timeouts().clientIdle().toMillis(), TimeUnit.MILLISECONDS));
    if (tls == null) {
      ch.pipeline().addLast(ProtocolDetector.NAME, new ProtocolDetector(
          () -> addHttp1(ch, "http"), () -> Http2Connection.install(ch.pipeline(), context, "http")));
    } else {
      ch.pipeline()
          .addLast("sni", new SniHandler(tls.mapping()))
          .addLast(AlpnPipelineConfigurator.NAME, new AlpnPipelineConfigurator(
              () -> addHttp1(ch, "https"), () -> Http2Connection.install(ch.pipeline(), context, "https"),
              context.metrics.edge()));
    }
  }

  private void addHttp1(Channel ch, String scheme) {
    LimitSettings limits = context.settings.limits();
    ServerHttpCodec codec = new ServerHttpCodec(limits.maxRequestLine(), limits.maxHeaderBytes(),
        limits.maxHeaderCount());
    ch.pipeline()
        .addLast("codec", codec)
        .addLast(FrontendHandler.NAME, new FrontendHandler(context, codec, scheme,
            new ConnectionMemo(context.metrics, context.trustedProxies)));
  }
}
