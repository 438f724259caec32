package dev.meridian.proxy.upstream;

import dev.meridian.tls.UpstreamTlsContexts;
import dev.meridian.tls.UpstreamTlsSettings;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

/**
 * TLS towards one backend group: the client context, built once, and the settings that name the
 * server and decide hostname verification (which fails closed).
 *
 * @param context  the client context (offers only http/1.1 by ALPN)
 * @param settings the group's upstream TLS settings
 */
public record UpstreamTls(SslContext context, UpstreamTlsSettings settings) {

  /** A handler for a new connection to {@code host:port}, with SNI and hostname verification. */
  public SslHandler newHandler(Channel channel, String host, int port) {
    return UpstreamTlsContexts.newHandler(context, settings, channel.alloc(), host, port);
  }
}
