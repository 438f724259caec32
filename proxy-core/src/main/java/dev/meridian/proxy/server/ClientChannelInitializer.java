package dev.meridian.proxy.server;

import dev.meridian.proxy.config.MeridianSettings.LimitSettings;
import dev.meridian.proxy.http.ServerHttpCodec;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Builds the pipeline of each accepted client connection.
 *
 * <pre>
 *  socket --> [idle]      IdleStateHandler: client idle timeout
 *         --> [detect]    ProtocolDetector: HTTP/2 preface or HTTP/1.x; replaced by one of:
 *
 *  HTTP/1.x:
 *         --> [codec]     ServerHttpCodec: strict HTTP/1.1 decode with limits, HEAD-aware encode
 *         --> [frontend]  FrontendHandler: route, forward, relay the response
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

  ClientChannelInitializer(ProxyContext context, ChannelGroup clients) {
    this.context = context;
    this.clients = clients;
  }

  @Override
  protected void initChannel(Channel ch) {
    clients.add(ch);
    ch.pipeline().addLast("idle", new IdleStateHandler(0, 0,
        context.settings.timeouts().clientIdle().toMillis(), TimeUnit.MILLISECONDS));
    ch.pipeline().addLast(ProtocolDetector.NAME, new ProtocolDetector(
        () -> addHttp1(ch), () -> Http2Connection.install(ch.pipeline(), context, "http")));
  }

  private void addHttp1(Channel ch) {
    LimitSettings limits = context.settings.limits();
    ServerHttpCodec codec = new ServerHttpCodec(limits.maxRequestLine(), limits.maxHeaderBytes(),
        limits.maxHeaderCount());
    ch.pipeline()
        .addLast("codec", codec)
        .addLast(FrontendHandler.NAME, new FrontendHandler(context, codec, "http"));
  }
}
