package dev.meridian.proxy.server;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;

/**
 * One client HTTP/2 stream, served by its {@link FrontendHandler} without a channel of its own: the
 * stream's frames come from the connection's {@link Http2Streams}, and what the phases write goes
 * into the connection's frame codec as frames of this stream. A channel and pipeline per stream (Netty's
 * multiplexer) cost a tenth of the proxy's core under many short streams: setting them up, every
 * frame through two pipelines, and tearing them down.
 *
 * <p>What a stream's channel did, this does:
 * <ul>
 *   <li><b>Flow control.</b> The bytes of each DATA frame handed on are given back to the client's
 *       window only when the handler asks for more ({@link #resumeReading}), so a client can send at
 *       most one window ahead of a backend that is not taking the body.
 *   <li><b>Writability.</b> The stream takes more response bytes while the connection does and the
 *       client's window for the stream is open; the handler hears of changes either way.
 *   <li><b>Closing.</b> {@link #close} resets the stream (CANCEL) unless it has ended both ways; the
 *       handler hears of the close afterwards, on the event loop, never from inside its own call.
 *   <li><b>The first read.</b> The frames a stream receives in the read that opened it reach the
 *       handler at that read's end, not one by one: a stream the client opens and resets within one
 *       read (HTTP/2 rapid reset, CVE-2023-44487) never reaches admission or a backend, however
 *       many the client packs into its writes.
 * </ul>
 * Used on the connection's event loop only.
 */
final class Http2ClientStream extends ClientSide {
  private final Http2FrameStream stream;
  private final Http2StreamCodec codec;
  private final Http2Streams streams;
  final FrontendHandler handler;
  /** Bytes of DATA handed to the handler and not yet given back to the client's window. */
  private int unconsumedBytes;
  /** The client ended its side of the stream (END_STREAM arrived). */
  private boolean endStreamReceived;
  /** Closed here, or by the client, or with the connection: nothing more is read or written. */
  private boolean closed;
  /** The stream's first read has ended and its frames go to the handler as they come. */
  private boolean started;
  /** The first frame of the stream's first read, held until that read ends; null once handed on. */
  private Http2StreamFrame firstFrame;
  /** The first read's later frames (a body in the same read), or null: most streams have none. */
  private java.util.ArrayDeque<Http2StreamFrame> firstReadRest;
  /** Waits for the read-complete of the connection's current read (see {@link Http2Streams}). */
  boolean readCompletePending;
  /** The next stream whose handler hears of its close in the same task (see {@link Http2Streams}). */
  Http2ClientStream nextClosed;

  Http2ClientStream(ChannelHandlerContext ctx, Http2FrameStream stream, Http2StreamCodec codec, Http2Streams streams,
      FrontendHandler handler) {
    super(ctx);
    this.stream = stream;
    this.codec = codec;
    this.streams = streams;
    this.handler = handler;
  }

  /** The stream's identifier on its connection. */
  int id() {
    return stream.id();
  }

  // ---- ClientSide --------------------------------------------------------------------------

  @Override
  StreamResponseDeadlines responseDeadlines() {
    return streams.responseDeadlines();
  }

  @Override
  boolean clientEnded() {
    return endStreamReceived;
  }

  @Override
  boolean isWritable() {
    return !closed && ctx.channel().isWritable() && streams.isWritable(stream);
  }

  @Override
  void write(Object msg) {
    if (closed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    codec.write(ctx, msg, ctx.voidPromise());
  }

  @Override
  ChannelFuture writeAndFlush(Object msg) {
    if (closed) {
      ReferenceCountUtil.release(msg);
      return ctx.newFailedFuture(new ClosedChannelException());
    }
    ChannelPromise promise = ctx.newPromise();
    codec.write(ctx, msg, promise);
    ctx.flush();
    return promise;
  }

  /** Gives the bytes handed on so far back to the client's window (flushed by the read's end, or now). */
  @Override
  void resumeReading() {
    if (unconsumedBytes > 0 && !closed) {
      int bytes = unconsumedBytes;
      unconsumedBytes = 0;
      ctx.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream), ctx.voidPromise());
      if (!streams.inRead()) {
        ctx.flush();
      }
    }
  }

  /** Nothing to stop: the client's window is only credited when the handler asks for more. */
  @Override
  void pauseReading() {
  }

  @Override
  void close() {
    close(null);
  }

  @Override
  void reset(Http2Error error) {
    close(error);
  }

  @Override
  void closeWhenWritten(boolean clientMaySend) {
    close(null); // what was written goes first: a reset, if any, is written after it
    ctx.flush();
  }

  /**
   * Closes the stream: a RST_STREAM with {@code error} unless the stream is closed already; when
   * {@code error} is null and the stream has not ended both ways, NO_ERROR after a complete response
   * that has left flow control (the client may stop sending its request and keeps the response: RFC
   * 9113 section 8.1, a 413 before the upload ended, say) and CANCEL otherwise (the reset drops what
   * still waits for the client's window, so the client must not take the response as whole). The handler hears of it on the event loop's
   * next turn.
   */
  private void close(Http2Error error) {
    if (closed) {
      return;
    }
    closed = true;
    if (ctx.channel().isActive() && stream.state() != Http2Stream.State.CLOSED
        && (error != null || !(endStreamReceived && codec.endSent()))) {
      Http2Error code = error != null ? error
          : codec.endSent() && !streams.holdsUnsent(stream.id()) ? Http2Error.NO_ERROR : Http2Error.CANCEL;
      ctx.write(new DefaultHttp2ResetFrame(code).stream(stream), ctx.voidPromise());
      ctx.flush();
    }
    dropFirstRead();
    streams.remove(this);
    streams.tellClosedLater(this);
  }

  /** Releases the frames of a first read that never reached the handler (their bytes back to the window). */
  private void dropFirstRead() {
    Http2StreamFrame frame;
    while ((frame = nextOfFirstRead()) != null) {
      onFrame(frame); // closed: released, a DATA frame's bytes given back
    }
  }

  /** Takes the next held frame of the first read, in arrival order, or null when none is left. */
  private Http2StreamFrame nextOfFirstRead() {
    Http2StreamFrame frame = firstFrame;
    if (frame != null) {
      firstFrame = null;
      return frame;
    }
    return firstReadRest == null ? null : firstReadRest.poll();
  }

  // ---- from the connection -----------------------------------------------------------------

  /** A frame of the stream arrived: translated and handed to the handler. */
  void onFrame(Http2StreamFrame frame) {
    boolean data = frame instanceof Http2DataFrame;
    if (closed) {
      if (data) {
        // Its bytes count against the connection's window too: give them back.
        ctx.write(new DefaultHttp2WindowUpdateFrame(((Http2DataFrame) frame).initialFlowControlledBytes()).stream(stream),
            ctx.voidPromise());
      }
      ReferenceCountUtil.release(frame);
      return;
    }
    if (data) {
      Http2DataFrame dataFrame = (Http2DataFrame) frame;
      unconsumedBytes += dataFrame.initialFlowControlledBytes();
      endStreamReceived |= dataFrame.isEndStream();
    } else if (frame instanceof Http2HeadersFrame headers) {
      endStreamReceived |= headers.isEndStream();
    }
    streams.readCompleteLater(this);
    if (!started) {
      if (firstFrame == null && firstReadRest == null) {
        firstFrame = frame;
      } else {
        if (firstReadRest == null) {
          firstReadRest = new java.util.ArrayDeque<>(4);
        }
        firstReadRest.add(frame);
      }
      return;
    }
    read(frame);
  }

  private void read(Http2StreamFrame frame) {
    try {
      codec.read(frame, ctx.alloc(), handler);
    } catch (Http2Exception e) {
      onError(e);
    }
  }

  /**
   * The connection's read ended: the frames of the stream's first read go to the handler (unless the
   * stream closed meanwhile), then the handler flushes upstream and asks for more if it can take it.
   */
  void onReadComplete() {
    if (!started) {
      started = true;
      Http2StreamFrame frame;
      while ((frame = nextOfFirstRead()) != null) {
        if (closed) {
          onFrame(frame); // the handler closed the stream on an earlier frame: released
        } else {
          read(frame);
        }
      }
    }
    if (!closed) {
      handler.clientReadComplete();
    }
  }

  /** The stream (or the connection) may take more response bytes, or fewer. */
  void onWritabilityChanged() {
    if (!closed) {
      handler.clientWritabilityChanged();
    }
  }

  /** The stream closed: ended both ways, reset by the client, or its connection gone. */
  void onStreamClosed() {
    if (closed) {
      return;
    }
    closed = true;
    dropFirstRead();
    streams.remove(this);
    streams.tellClosedLater(this);
  }

  /** A stream error (the codec's, or a broken trailer): the handler resets the stream with its code. */
  void onError(Throwable cause) {
    if (!closed) {
      handler.clientFailed(cause);
    }
  }
}
