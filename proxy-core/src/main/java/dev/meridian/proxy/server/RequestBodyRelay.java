package dev.meridian.proxy.server;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phase 3 of a request: its body, forwarded part by part as it arrives (the parts are slices of the
 * buffers read, never copied or aggregated). While the request may still be retried, each part is
 * also kept for a replay to the next backend, up to the route's {@code max-replay-body}. A body the
 * decoder refused aborts the request: the backend never sees it complete, the client gets 400.
 */
final class RequestBodyRelay {
  private static final Logger log = LoggerFactory.getLogger(RequestBodyRelay.class);

  private final FrontendHandler connection;

  RequestBodyRelay(FrontendHandler connection) {
    this.connection = connection;
  }

  /** On a retry, sends the kept body parts again (the rest still waits in the inbound queue). */
  void replay(Exchange ex) {
    if ((ex.replay == null || ex.replay.isEmpty()) && !ex.replayEndsEmpty) {
      ex.requestComplete = false;
      return;
    }
    // Each kept part holds one reference: forwarding it hands that reference to the write, and
    // forward keeps a fresh duplicate for a further retry.
    List<HttpContent> parts = ex.replay;
    boolean endsEmpty = ex.replayEndsEmpty;
    ex.replay = null;
    ex.replayEndsEmpty = false;
    ex.replayBytes = 0;
    ex.requestComplete = false;
    ex.bodyBytesForwarded = 0;
    // A part held back is newer than every kept one: it follows them.
    HttpContent held = ex.heldBack;
    ex.heldBack = null;
    if (parts != null) {
      for (HttpContent part : parts) {
        forward(ex, part);
      }
    }
    if (held != null) {
      forward(ex, held);
    }
    if (endsEmpty) {
      forward(ex, LastHttpContent.EMPTY_LAST_CONTENT);
    }
  }

  /**
   * Forwards a body part. On HTTP/2, the part that completes the Content-Length waits for the
   * client's END_STREAM: if more DATA or no END_STREAM follows, the codec resets the stream and the
   * backend never saw the request complete.
   */
  void forward(Exchange ex, HttpContent content) {
    if (ex.http2 && ex.declaredLength >= 0 && !(content instanceof LastHttpContent)
        && !content.decoderResult().isFailure()
        && ex.bodyBytesForwarded + content.content().readableBytes() >= ex.declaredLength) {
      HttpContent earlier = ex.heldBack;
      ex.heldBack = content;
      if (earlier != null) {
        send(ex, earlier);
      }
      return;
    }
    if (ex.heldBack != null) {
      HttpContent held = ex.heldBack;
      ex.heldBack = null;
      send(ex, held);
    }
    send(ex, content);
  }

  /** The request's empty end went upstream with its head (a {@code WholeRequest}): the request is complete. */
  void endedWithHead(Exchange ex) {
    ex.keepForReplay(LastHttpContent.EMPTY_LAST_CONTENT, ex.route.retries().maxReplayBody());
    ended(ex, false);
  }

  private void ended(Exchange ex, boolean withTrailers) {
    ex.requestComplete = true;
    ex.trailersForwarded = withTrailers;
    connection.responseTimer.startTimer(ex);
    if (ex.route.hedge() != null) {
      connection.hedging().arm(ex);
    }
  }

  private void send(Exchange ex, HttpContent content) {
    if (content.decoderResult().isFailure()) {
      rejectMalformed(ex, content);
      return;
    }
    long maxBody = ex.policies.settings.limits().maxRequestBody();
    if (maxBody > 0 && ex.bodyBytesForwarded + content.content().readableBytes() > maxBody) {
      refuseTooLarge(ex, content, maxBody);
      return;
    }
    ex.bodyBytesForwarded += content.content().readableBytes();
    ex.keepForReplay(content, ex.route.retries().maxReplayBody());
    if (content instanceof LastHttpContent last) {
      ended(ex, !last.trailingHeaders().isEmpty());
    }
    // A failed write reaches BackendHandler.exceptionCaught, which closes and reports it.
    ex.upstream.write(content, ex.upstream.voidPromise());
    connection.upstreamNeedsFlush = true;
  }

  /**
   * A body that cannot be decoded (bad chunk size, bad trailer): the backend must never see the
   * request complete, so its connection is closed mid-request and the client gets 400.
   */
  private void rejectMalformed(Exchange ex, HttpContent content) {
    Throwable cause = content.decoderResult().cause();
    content.release();
    String more = connection.context.failureLog.admittedLine("client request", "malformed body");
    if (more != null) {
      log.info("{} {}: malformed request body, aborting the request: {}{}", ex.requestId, connection.clientIp,
          dev.meridian.proxy.http.LogText.printable(cause.toString()), more);
    }
    ExchangeCompletion completion = connection.completion;
    completion.abandonUpstream(ex);
    ex.clientKeepAlive = false;
    ex.bodiless = false;
    completion.failResponse(ex, HttpResponseStatus.BAD_REQUEST, "malformed request body");
  }

  /**
   * A body without a declared length (chunked, HTTP/2 DATA) grew past {@code limits.max-request-body}:
   * like a malformed one, the backend must never see it end, so its connection is closed
   * mid-request, and the client gets 413 (or loses its connection once its response began).
   */
  private void refuseTooLarge(Exchange ex, HttpContent content, long maxBody) {
    content.release();
    log.info("{} {}: request body over limits.max-request-body ({} bytes); 413", ex.requestId,
        connection.clientIp, maxBody);
    ExchangeCompletion completion = connection.completion;
    completion.abandonUpstream(ex);
    ex.clientKeepAlive = false;
    ex.bodiless = false;
    completion.failResponse(ex, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
        "the request body is larger than " + maxBody + " bytes (limits.max-request-body)");
  }

  /** Drops a body part nobody will read (the request was answered locally); its end may finish the exchange. */
  void discard(Exchange ex, HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    content.release();
    if (ex != null && last) {
      ex.requestComplete = true;
      if (ex.responseComplete()) {
        connection.completion.finishExchange(ex);
      }
    }
  }
}
