package dev.meridian.proxy.server;

import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens when a client stalls a connection: an idle keep-alive connection closes, a request
 * body that stopped arriving (or arrives slower than {@code limits.min-request-body-rate}) is answered
 * 408, and a response the client stopped reading is cut off. Each frees the upstream the client held,
 * so a slow client cannot keep a backend connection for ever. {@link RequestHeadTimer} guards the
 * request head the same way.
 */
final class ClientStalls {
  private static final Logger log = LoggerFactory.getLogger(ClientStalls.class);

  private ClientStalls() {}

  /**
   * Nothing moved on the client connection for {@code timeouts.client-idle}: an idle keep-alive
   * connection closes; a request whose body stalled gets 408 (a slow-body attack must not hold the
   * connection and its upstream forever); a response the client stopped reading is cut off (a slow
   * reader holds its upstream too); a response the backend is slow to send is left to its pace.
   */
  static void onIdle(FrontendHandler connection) {
    Exchange ex = connection.exchange;
    if (ex == null) {
      log.debug("{}: client idle, closing", connection.clientIp);
      connection.client.close();
    } else if (backendStoppedTakingBody(ex)) {
      // Meridian stopped reading the client because the backend takes the body slowly or not at all:
      // not the client's fault (no 408); the upstream idle timeout, which sees the backend's progress,
      // answers 504 if it stopped.
      log.debug("{} {}: the request body waits for backend {}", ex.requestId, connection.clientIp, ex.backend);
    } else if (!ex.requestComplete && !ex.responseStarted() && !ex.waitsForBackend()) {
      // (A request a drill's delay or a full backend holds is waiting for it, not stalled by the client.)
      refuseStalledBody(connection, ex, "stopped arriving for "
          + ex.policies.settings.timeouts().clientIdle().toSeconds() + " s");
    } else if (isStoppedReader(connection, ex)) {
      cutOffStoppedReader(connection, ex);
    }
  }

  /**
   * Whether the backend stopped taking the exchange's request body: the body has not ended, no
   * response began, and its upstream connection holds bytes it will not take (it is unwritable, so
   * the client is not read either).
   */
  static boolean backendStoppedTakingBody(Exchange ex) {
    return !ex.requestComplete && !ex.responseStarted() && ex.upstream != null && !ex.upstream.isWritable();
  }

  /** Whether the client has stopped reading the exchange's response: its connection holds unsent bytes. */
  static boolean isStoppedReader(FrontendHandler connection, Exchange ex) {
    return ex.responseStarted() && !ex.responseComplete() && !connection.client.isWritable();
  }

  /** Cuts off a response the client stopped reading (nothing sent for an idle timeout); its upstream is dropped. */
  static void cutOffStoppedReader(FrontendHandler connection, Exchange ex) {
    String line = connection.context.failureLog.admittedLine(ClientStalls.class, "stopped-reading");
    if (line != null) { // at most a line a second: many slow readers at once are one attack
      log.info("{} {}: the client stopped reading its response; cutting it off after {} bytes{}", ex.requestId,
          connection.clientIp, ex.responseBytes, line);
    }
    connection.context.metrics.edge().sendTimedOut();
    connection.completion.abandonUpstream(ex);
    connection.client.close();
  }

  /**
   * The client shut its sending side (TCP FIN). Between requests the connection closes once its last
   * answer is sent. Once its
   * request was sent whole and its answer is awaited or on its way, over TLS (HTTP clients over TLS
   * close both ways) or with limits.abort-on-client-close, it has left: {@link #clientLeft}. Otherwise
   * (a cleartext half-close, pipelined requests still queued, a body cut short) what it sent is
   * answered, then the connection closes ({@link #checkInputClosedMidBody} answers a cut body 400).
   */
  static void onInputClosed(FrontendHandler connection) {
    connection.inputClosed = true;
    Exchange ex = connection.exchange;
    if (ex == null && connection.inbound.isEmpty()) {
      // Its last answer may still be on its way (a slow reader that half-closed after reading part):
      // the connection closes once that is sent.
      connection.client.closeWhenWritten(false);
    } else if (ex != null && ex.requestComplete && connection.inbound.isEmpty()
        && (connection.isTls() || connection.context.policies().settings.limits().abortOnClientClose())) {
      clientLeft(connection);
    } else {
      checkInputClosedMidBody(connection);
    }
  }

  /**
   * The client closed its side while its request was in flight and is taken to have left: the
   * connection closes now, which abandons the exchange and frees its backend (logged 499, or cut off
   * when its answer had begun), as nginx does for a client that closes.
   */
  static void clientLeft(FrontendHandler connection) {
    Exchange ex = connection.exchange;
    if (ex != null) {
      log.debug("{} {}: the client closed its side before its answer ended; abandoning the request", ex.requestId,
          connection.clientIp);
    }
    connection.client.close();
  }

  /**
   * Acts on a client that shut its side while the current request's body was being read, once every
   * part of it that came was handed on (the queue of what arrived is empty): see
   * {@link #onInputClosedMidBody}. Looked at when the shutdown arrives and whenever that queue empties.
   */
  static void checkInputClosedMidBody(FrontendHandler connection) {
    Exchange ex = connection.exchange;
    if (!connection.closing && connection.inputClosed && ex != null && connection.inbound.isEmpty()
        && connection.codec != null && connection.codec.inRequestBody()) {
      onInputClosedMidBody(connection, ex);
    }
  }

  /**
   * The client shut its sending side (TCP FIN) in the middle of the current request's body: the body
   * can never end, so its upstream (which holds a half-received request) is dropped at once rather
   * than after a stall timeout, and the client, which may still read, is answered 400. A response
   * already on its way is left to finish.
   */
  static void onInputClosedMidBody(FrontendHandler connection, Exchange ex) {
    if (ex.requestComplete || ex.responseStarted()) {
      return;
    }
    log.info("{} {}: the client closed its side before the request body ended; 400", ex.requestId,
        connection.clientIp);
    connection.completion.abandonUpstream(ex);
    ex.clientKeepAlive = false;
    ex.bodiless = false;
    connection.completion.respondLocally(ex, HttpResponseStatus.BAD_REQUEST,
        "the connection was shut before the request body ended");
  }

  /** Answers a request whose body comes too slowly 408 (its upstream dropped); the connection closes. */
  static void refuseStalledBody(FrontendHandler connection, Exchange ex, String why) {
    log.info("{} {}: request body {}; 408", ex.requestId, connection.clientIp, why);
    connection.completion.abandonUpstream(ex);
    ex.clientKeepAlive = false;
    ex.bodiless = false;
    connection.completion.respondLocally(ex, HttpResponseStatus.REQUEST_TIMEOUT, "the request body " + why);
  }
}
