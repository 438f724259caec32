package dev.meridian.proxy.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After the TLS handshake, installs HTTP/2 or HTTP/1.1 according to what ALPN negotiated (HTTP/1.1
 * when the client offered nothing), then removes itself.
 */
final class AlpnPipelineConfigurator extends ApplicationProtocolNegotiationHandler {
  static final String NAME = "alpn";
  private static final Logger log = LoggerFactory.getLogger(AlpnPipelineConfigurator.class);

  private final Runnable installHttp1;
  private final Runnable installHttp2;

  AlpnPipelineConfigurator(Runnable installHttp1, Runnable installHttp2) {
    super(ApplicationProtocolNames.HTTP_1_1);
    this.installHttp1 = installHttp1;
    this.installHttp2 = installHttp2;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    if (ctx.channel().isActive()) {
      ctx.read(); // auto-read is off: the handshake needs the client's bytes
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    super.channelActive(ctx);
    ctx.read();
  }

  @Override
  protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
    if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
      installHttp2.run();
    } else {
      installHttp1.run();
    }
  }

  @Override
  protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("{}: TLS handshake failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
