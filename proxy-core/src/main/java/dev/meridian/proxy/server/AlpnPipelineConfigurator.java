package dev.meridian.proxy.server;

import dev.meridian.proxy.metrics.EdgeMeters;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After the TLS handshake, installs HTTP/2 or HTTP/1.1 according to what ALPN negotiated (HTTP/1.1
 * when the client offered nothing), then removes itself. Counts each handshake's outcome. A
 * connection whose handshake has not completed when its {@link OpeningDeadline} passes (a client that
 * never sends its ClientHello, or stalls in the handshake), or whose client closes or idles first, is
 * closed.
 */
final class AlpnPipelineConfigurator extends ApplicationProtocolNegotiationHandler {
  static final String NAME = "alpn";
  private static final Logger log = LoggerFactory.getLogger(AlpnPipelineConfigurator.class);

  private final Runnable installHttp1;
  private final Runnable installHttp2;
  private final EdgeMeters meters;
  private final FailureLogLimit failureLog;
  /** This connection's failed handshake was counted (an event and the close may both report it). */
  private boolean failureCounted;
  /** The TLS handshake succeeded: an exception from here on is the protocol's setup, not the client's. */
  private boolean handshakeDone;
  private final OpeningDeadline deadline;

  AlpnPipelineConfigurator(Runnable installHttp1, Runnable installHttp2, EdgeMeters meters,
      FailureLogLimit failureLog, Duration deadline) {
    super(ApplicationProtocolNames.HTTP_1_1);
    this.installHttp1 = installHttp1;
    this.installHttp2 = installHttp2;
    this.meters = meters;
    this.failureLog = failureLog;
    this.deadline = new OpeningDeadline(deadline);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    if (ctx.channel().isActive()) {
      deadline.start(ctx);
      ctx.read(); // auto-read is off: the handshake needs the client's bytes
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
    deadline.cancel();
    super.handlerRemoved(ctx);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    deadline.start(ctx);
    super.channelActive(ctx);
    ctx.read();
  }

  /**
   * Counts a failed handshake: Netty reports every one with this event (a client that sends an alert,
   * sends something that is not TLS, or just closes), but calls {@link #handshakeFailure} only for
   * some.
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess() && !failureCounted) {
      failureCounted = true;
      logFailure(ctx, meters.handshakeFailed(done.cause()), done.cause());
    }
    if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
      handshakeDone = true;
    }
    if (evt instanceof SniCompletionEvent sni && sni.isSuccess() && sni.hostname() != null) {
      ctx.channel().attr(ConnectionMemo.SERVER_NAME).set(sni.hostname().toLowerCase(Locale.ROOT));
    }
    if (evt == FrontendHandler.DrainEvent.GRACE_OVER) {
      ctx.close(); // still no protocol after the drain's grace: nothing asked of this connection
      return;
    }
    if (deadline.closesOn(ctx, evt)) {
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  /**
   * The connection closed while this handler was still in place, so its handshake never completed
   * (success removes it): counted as {@code closed} unless a failure was counted already.
   */
  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    deadline.cancel();
    if (!failureCounted) {
      failureCounted = true;
      meters.handshakeAbandoned();
    }
    super.channelInactive(ctx);
  }

  @Override
  protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
    meters.handshakeSucceeded();
    boolean http2 = ApplicationProtocolNames.HTTP_2.equals(protocol);
    if (!deadline.isNone()) {
      // The opening deadline goes on until the client begins to speak (this handler leaves now).
      ctx.pipeline().addAfter(ctx.name(), FirstBytesDeadline.NAME, new FirstBytesDeadline(deadline.remainingNanos(),
          http2 ? FirstBytesDeadline.HTTP2_PREFACE : 1));
    }
    if (http2) {
      installHttp2.run();
    } else {
      installHttp1.run();
    }
  }

  /**
   * An exception before the handshake completed comes from the client's opening bytes (a ClientHello
   * Netty could not read or map): counted as a failed handshake, logged in one line at DEBUG, and the
   * connection closed. Netty's handler would log it at WARN with its stack trace and pass it on to
   * be logged again, so each such ClientHello wrote tens of lines a client chose. One after it (the
   * protocol's setup failing) or an Error is logged in full.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (handshakeDone || !(cause instanceof Exception)) {
      // Not the client's opening bytes: setting up the protocol after the handshake failed (Meridian's
      // own fault), or an Error (out of memory). Logged in full, as Netty would.
      log.warn("{}: could not set up the connection's protocol; closed", ctx.channel().remoteAddress(), cause);
      ctx.close();
      return;
    }
    if (!failureCounted) {
      failureCounted = true;
      logFailure(ctx, meters.handshakeFailed(cause), cause);
    }
    log.debug("{}: closed before a protocol was settled: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }

  /**
   * Logs a failed handshake at INFO, at most a line a second for each reason (a scan or a storm of
   * them is one line a second saying how many more), with the client's address and what TLS said.
   */
  private void logFailure(ChannelHandlerContext ctx, String reason, Throwable cause) {
    if (reason.equals("closed")) {
      return; // a client that just went away (a port scan, a health check) is counted, not logged
    }
    String more = failureLog.admittedLine("tls handshake", reason);
    if (more != null) {
      Throwable root = cause;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      log.info("{}: TLS handshake failed ({}): {}{}", ctx.channel().remoteAddress(), reason, root.getMessage(), more);
    }
  }

  @Override
  protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("{}: TLS handshake failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
