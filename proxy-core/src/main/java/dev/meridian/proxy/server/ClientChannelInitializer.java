package dev.meridian.proxy.server;

import dev.meridian.proxy.config.MeridianSettings.LimitSettings;
import dev.meridian.proxy.http1.ServerHttpCodec;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import dev.meridian.tls.CertificateReloader;
import io.netty.handler.ssl.SniHandler;
import dev.meridian.proxy.transport.IdleTimeoutHandler;
import java.util.concurrent.TimeUnit;

/**
 * Builds the pipeline of each accepted client connection.
 *
 * <pre>
 *  socket --> [idle]      IdleTimeoutHandler: client idle timeout
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
  private final ProxyContext context;
  private final ChannelGroup clients;

  private final CertificateReloader tls;

  /**
   * Creates the initializer of one listener.
   *
   * @param tls the listener's certificates, or null for a cleartext listener
   */
  ClientChannelInitializer(ProxyContext context, ChannelGroup clients, CertificateReloader tls) {
    this.context = context;
    this.clients = clients;
    this.tls = tls;
  }

  @Override
  protected void initChannel(Channel ch) {
    clients.add(ch);
    context.metrics.edge().connectionAccepted();
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
            new ConnectionMemo(context.metrics)));
  }
}
