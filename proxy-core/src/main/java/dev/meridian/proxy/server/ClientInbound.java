package dev.meridian.proxy.server;

import dev.meridian.proxy.http1.RawRequest;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * A client connection's decoded messages waiting their turn, and whether to read more: a head starts
 * its exchange only when the one before has finished and the client has taken what was written to
 * it (pipelined requests wait here, at most one read's worth: a client that sends and never reads
 * cannot make its answers pile up), body parts go
 * upstream once the exchange has an upstream connection (or are dropped under a local answer), and
 * the client is read only while its next bytes have somewhere to go.
 *
 * <p>Runs on the connection's event loop, like the {@link FrontendHandler} it belongs to.
 */
final class ClientInbound {
  private final FrontendHandler connection;
  /**
   * Room for a head, a body part and an end before it grows (the default's 16 would be 88 bytes per
   * connection and per HTTP/2 stream, idle ones included).
   */
  private final ArrayDeque<Object> queue = new ArrayDeque<>(3);

  ClientInbound(FrontendHandler connection) {
    this.connection = connection;
  }

  /** Queues a message from the client's decoder and handles what can be handled now. */
  void add(Object msg) {
    if (msg instanceof LastHttpContent && connection.exchange != null) {
      noteBodyEnded(connection.exchange);
    }
    queue.add(msg);
    drain();
  }

  /**
   * The client sent the end of a body: when it is the current request's (no other request's head
   * waits before it), that request's response-deadline starts now, though the body may wait here
   * for an upstream connection (see {@link RequestDeadline}).
   */
  private void noteBodyEnded(Exchange ex) {
    if (ex.route == null || ex.route.responseDeadline().isZero() || ex.bodyEndedNanos != 0 || ex.bodiless) {
      return;
    }
    for (Object queued : queue) {
      if (queued instanceof HttpRequest) {
        return; // the end of a later request's body
      }
    }
    ex.bodyEndedNanos = System.nanoTime();
    connection.responseTimer.watchDeadline(ex);
  }

  /** Handles queued client messages as far as the current request's state allows. */
  void drain() {
    while (!connection.closing && !queue.isEmpty()) {
      Object msg = queue.peek();
      if (msg instanceof HttpRequest) {
        if (connection.exchange != null || connection.settling || !connection.client.takesNextRequest()
            || (msg instanceof RawRequest raw && raw.endsWithHead() && queue.size() == 1)) {
          return; // (a request without a body waits the moment its end takes to follow: they go as one)
        }
        queue.poll();
        if (msg instanceof FullHttpRequest full) {
          // An HTTP/2 request whose HEADERS ended the stream (or a request the decoder refused):
          // the head starts the exchange and its end follows as the body, so it completes like any.
          HttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(),
              full.headers());
          head.setDecoderResult(full.decoderResult());
          queue.addFirst(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
          connection.startRequest(head);
        } else {
          connection.startRequest((HttpRequest) msg);
        }
      } else if (msg instanceof HttpContent) {
        Exchange ex = connection.exchange;
        if (ex != null && !ex.isLocal() && ex.upstream == null) {
          return;
        }
        queue.poll();
        if (ex == null || ex.isLocal()) {
          connection.requestBody.discard(ex, (HttpContent) msg);
        } else {
          connection.requestBody.forward(ex, (HttpContent) msg);
        }
      } else {
        queue.poll();
        ReferenceCountUtil.release(msg);
      }
    }
    ClientStalls.checkInputClosedMidBody(connection);
  }

  /**
   * Asks the client for more bytes when the current state can take them; otherwise stops reading
   * when bytes are already waiting or the current request's body would be next (see {@link ReadDemand}:
   * a keep-alive connection waiting for its response keeps reading, since its client sends nothing).
   */
  void maybeRead() {
    if (connection.closing || connection.inputClosed) {
      return;
    }
    // Bytes after a request asking to switch protocols wait in the decoder for its answer: no more.
    boolean heldInDecoder = connection.codec != null && connection.codec.holdsBytesAfterUpgradeRequest();
    if (!heldInDecoder && canTakeClientBytes()) {
      connection.client.resumeReading();
    } else if (heldInDecoder || !queue.isEmpty()
        || (connection.exchange != null && !connection.exchange.requestComplete)) {
      connection.client.pauseReading();
    }
  }

  private boolean canTakeClientBytes() {
    if (!queue.isEmpty()) {
      return false;
    }
    Exchange ex = connection.exchange;
    if (ex == null) {
      return !connection.settling && connection.client.takesNextRequest();
    } else if (ex.isLocal()) {
      return !ex.requestComplete && ex.bodiless;
    }
    return !ex.requestComplete && ex.upstream != null && ex.upstream.isWritable();
  }

  /** Whether no client message waits. */
  boolean isEmpty() {
    return queue.isEmpty();
  }

  /**
   * Takes the decoder's empty end of the current request from the queue when it can go upstream with
   * the head: a request without a body (HTTP/1.1, or an HTTP/2 stream's whose HEADERS ended it), to
   * an HTTP/1.1 backend, sent for the first time (a retry sends the end kept for replay, after the
   * head).
   */
  boolean takeEndOfBodilessRequest(Exchange ex, Channel upstream) {
    if (!ex.bodiless || !(ex.request instanceof RawRequest) || upstream instanceof Http2StreamChannel
        || ex.replay != null || ex.replayEndsEmpty || ex.heldBack != null
        || queue.peek() != LastHttpContent.EMPTY_LAST_CONTENT) {
      return false;
    }
    queue.poll();
    return true;
  }

  /** Releases every message still waiting (the connection closed). */
  void release() {
    Object msg;
    while ((msg = queue.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }
}
