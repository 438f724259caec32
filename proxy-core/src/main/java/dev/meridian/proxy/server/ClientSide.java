package dev.meridian.proxy.server;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2Error;

/**
 * What the phases of a request do to its client, whichever protocol the client speaks: write the
 * response, flush, close, and ask for more of the request's bytes or stop asking. The phases use this
 * rather than a {@link ChannelHandlerContext}, so an HTTP/1 connection and an HTTP/2 stream are served
 * by the same {@link FrontendHandler} and phases.
 *
 * <p>Two kinds: {@link #ofConnection} (an HTTP/1 connection, whose pipeline encodes the messages)
 * and {@link Http2ClientStream} (an HTTP/2 stream, whose frames its {@link Http2StreamCodec} makes).
 * Used on the client's event loop only.
 */
abstract class ClientSide {
  /**
   * The context writes go through: the {@link FrontendHandler}'s in an HTTP/1 connection's pipeline,
   * {@link Http2Streams}' in an HTTP/2 connection's.
   */
  final ChannelHandlerContext ctx;

  ClientSide(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  /** The client of an HTTP/1 connection: its pipeline's codec encodes what is written. */
  static ClientSide ofConnection(ChannelHandlerContext ctx) {
    return new Http1Connection(ctx);
  }

  /** The event loop the client runs on (and its requests' upstream connections with it). */
  final EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  /** The allocator of the client's buffers. */
  final ByteBufAllocator alloc() {
    return ctx.alloc();
  }

  /** The client's TCP connection (for a stream, the connection that carries it). */
  final Channel socket() {
    return ctx.channel();
  }

  /** Sends what was written. */
  final void flush() {
    ctx.flush();
  }

  /**
   * The timer an HTTP/2 stream's response-headers deadline is kept by, shared by its connection's
   * streams; null for an HTTP/1 connection, whose {@link ResponseHeadersTimer} keeps a timer of its own.
   */
  StreamResponseDeadlines responseDeadlines() {
    return null;
  }

  /** Whether the client takes more response bytes now (its connection's, or its stream's, window). */
  abstract boolean isWritable();

  /**
   * Whether the client's next request may start: on an HTTP/1 connection only once the client has
   * taken the answers written to it (its socket is writable), so pipelined requests from a client
   * that never reads wait rather than queue answers without bound; an HTTP/2 stream carries one
   * request, which starts whatever its window (a client may open it only once it saw the head).
   */
  boolean takesNextRequest() {
    return true;
  }

  /**
   * Whether an HTTP/2 client ended its side of the stream (END_STREAM arrived), even if the frames
   * that ended it have not reached the handler yet; false for an HTTP/1 connection.
   */
  boolean clientEnded() {
    return false;
  }

  /** Whether the client sends its requests one after another on this connection (HTTP/1), not one per stream. */
  boolean pipelines() {
    return false;
  }

  /** Writes a message (a response head, a body part, its end), unflushed, without a promise. */
  abstract void write(Object msg);

  /** Writes a message and flushes; the future completes when it was written. */
  abstract ChannelFuture writeAndFlush(Object msg);

  /** The request's bytes can be taken: keep (or start) reading the client. */
  abstract void resumeReading();

  /** The request's bytes cannot be taken for now: stop reading the client until {@link #resumeReading}. */
  abstract void pauseReading();

  /** Closes the client: an HTTP/1 connection, or an HTTP/2 stream (reset when it has not ended both ways). */
  abstract void close();

  /** Ends an HTTP/2 stream with a RST_STREAM carrying {@code error}; an HTTP/1 connection just closes. */
  abstract void reset(Http2Error error);

  /**
   * Closes once what was written has been sent. An HTTP/1 connection whose client may still be
   * sending lingers first (see {@link LingeringClose}) so its last bytes do not turn the close into a
   * reset that could destroy the response; a stream just ends.
   */
  abstract void closeWhenWritten(boolean clientMaySend);

  /** An HTTP/1 connection. */
  private static final class Http1Connection extends ClientSide {
    Http1Connection(ChannelHandlerContext ctx) {
      super(ctx);
    }

    @Override
    boolean isWritable() {
      return ctx.channel().isWritable();
    }

    @Override
    boolean takesNextRequest() {
      return ctx.channel().isWritable();
    }

    @Override
    boolean pipelines() {
      return true;
    }

    @Override
    void write(Object msg) {
      ctx.write(msg, ctx.voidPromise());
    }

    @Override
    ChannelFuture writeAndFlush(Object msg) {
      return ctx.writeAndFlush(msg);
    }

    @Override
    void resumeReading() {
      ReadDemand.resume(ctx.channel());
    }

    @Override
    void pauseReading() {
      ReadDemand.pause(ctx.channel());
    }

    @Override
    void close() {
      ctx.close();
    }

    @Override
    void reset(Http2Error error) {
      ctx.close();
    }

    @Override
    void closeWhenWritten(boolean clientMaySend) {
      if (clientMaySend) {
        LingeringClose.closeAfterWrites(ctx.channel());
      } else {
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }
  }
}
