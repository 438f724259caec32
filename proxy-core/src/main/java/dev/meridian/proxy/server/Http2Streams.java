package dev.meridian.proxy.server;

import dev.meridian.proxy.config.MeridianSettings.LimitSettings;
import dev.meridian.proxy.http1.Http2RequestHeads;
import dev.meridian.proxy.metrics.EdgeMeters;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2PriorityFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2WindowUpdateFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Serves the streams of one client HTTP/2 connection, after its frame codec: each stream the client
 * opens gets an {@link Http2ClientStream} and a {@link FrontendHandler}, and its frames, its
 * writability and its end are handed to them. Frames of the connection itself (SETTINGS, PING,
 * GOAWAY) and every other event pass on.
 *
 * <p>Each stream that read a frame hears of the read's end once, after the whole read (a handler
 * flushes upstream and asks for more then), and the connection is flushed once for all of them.
 * Used on the connection's event loop only.
 */
final class Http2Streams extends ChannelDuplexHandler {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Http2Streams.class);
  private final io.netty.handler.codec.http2.Http2Connection connection;
  /** The response bytes held back for the client; over its budget, no stream takes more. */
  private final HeldResponseBytes held;
  private final ProxyContext context;
  private final String scheme;
  private final ConnectionMemo memo;
  private final LimitSettings limits;
  private final EdgeMeters meters;
  /**
   * Each open stream's {@link Http2ClientStream}, kept as a property of Netty's stream (one slot in
   * an array it has anyway, where a map of our own held 0.2 KiB per idle connection).
   */
  private final io.netty.handler.codec.http2.Http2Connection.PropertyKey streamKey;
  /** Streams that read a frame in the current read, in the order they did. */
  private final ArrayDeque<Http2ClientStream> readComplete = new ArrayDeque<>(2);
  /**
   * Streams closed since the last {@link #tellClosed} ran, first and last (linked through
   * {@link Http2ClientStream#nextClosed}): their handlers hear of it in one task on the event loop's
   * next turn, where a task per stream cost a queue insertion and an object each.
   */
  private Http2ClientStream firstClosed;
  private Http2ClientStream lastClosed;
  /** Runs {@link #tellClosed}; made when the first stream closes. */
  private Runnable tellClosedTask;
  /** The streams' response-headers deadlines; made when the first stream asks. */
  private StreamResponseDeadlines responseDeadlines;
  /** Closes the connection when its client stops reading; made when the first stream opens. */
  private Http2SendTimeout sendTimeout;
  /** Reads the streams' request heads; made when the first stream opens. */
  private Http2RequestHeads heads;
  private ChannelHandlerContext ctx;
  private boolean inRead;
  /** A task to tell the streams of a budget crossing is queued. */
  private boolean budgetCrossedPending;

  /**
   * Creates the streams handler of a connection.
   *
   * @param connection the frame codec's connection (for each stream's flow-control window)
   * @param held       counts the response bytes the connection's flow controller holds back
   * @param limits     the listener's limits, which the streams' request heads are read with
   */
  Http2Streams(io.netty.handler.codec.http2.Http2Connection connection, HeldResponseBytes held, ProxyContext context,
      String scheme, ConnectionMemo memo, LimitSettings limits) {
    this.connection = connection;
    this.held = held;
    this.streamKey = connection.newKey();
    this.context = context;
    this.scheme = scheme;
    this.memo = memo;
    this.limits = limits;
    this.meters = context.metrics.edge();
  }

  /** One per connection; answered without Netty's per-thread lookup of the class's annotation. */
  @Override
  public boolean isSharable() {
    return false;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    // Told after the flow controller's work that moved the bytes, never from inside it (a relay
    // that reads on may write into it).
    held.onBudgetCrossed(() -> {
      if (!held.underBudget()) {
        meters.http2BufferFull();
      }
      if (!budgetCrossedPending) {
        ctx.executor().execute(this::budgetCrossed);
        budgetCrossedPending = true; // after: a refused task (the loop shutting down) leaves it clear
      }
    });
  }

  /**
   * The held-back bytes reached the budget, or fell under it: every open stream's handler hears,
   * and stops reading its backend or reads on (a response not yet begun is read either way).
   */
  private void budgetCrossed() {
    budgetCrossedPending = false;
    tellWritabilityChanged();
  }

  private void tellWritabilityChanged() {
    for (Http2ClientStream stream : openStreams()) {
      stream.onWritabilityChanged();
    }
  }

  /** Whether the connection is in a read (the streams' window updates are flushed at its end). */
  boolean inRead() {
    return inRead;
  }

  /**
   * Whether the client's window for the stream has room for response bytes, and the connection
   * holds back less than its budget of them.
   */
  boolean isWritable(Http2FrameStream frameStream) {
    if (!held.underBudget()) {
      return false;
    }
    Http2Stream stream = connection.stream(frameStream.id());
    return stream != null && connection.remote().flowController().isWritable(stream);
  }

  /** The one timer of the connection's streams' response-headers deadlines. */
  StreamResponseDeadlines responseDeadlines() {
    if (responseDeadlines == null) {
      responseDeadlines = new StreamResponseDeadlines(this, ctx.channel().eventLoop());
    }
    return responseDeadlines;
  }

  void readCompleteLater(Http2ClientStream stream) {
    if (!stream.readCompletePending) {
      stream.readCompletePending = true;
      readComplete.add(stream);
    }
  }

  void remove(Http2ClientStream stream) {
    Http2Stream http2Stream = connection.stream(stream.id());
    if (http2Stream != null) {
      http2Stream.removeProperty(streamKey);
    }
  }

  /**
   * The stream's handler hears of its close on the event loop's next turn, never from inside the
   * call that closed it (as a channel's inactive event came).
   */
  void tellClosedLater(Http2ClientStream stream) {
    if (firstClosed == null) {
      if (tellClosedTask == null) {
        tellClosedTask = this::tellClosed;
      }
      ctx.channel().eventLoop().execute(tellClosedTask);
      firstClosed = stream;
    } else {
      lastClosed.nextClosed = stream;
    }
    lastClosed = stream;
  }

  /** Tells the handlers of the streams closed since the last run, in the order they closed. */
  private void tellClosed() {
    while (firstClosed != null) {
      Http2ClientStream stream = firstClosed;
      firstClosed = stream.nextClosed;
      stream.nextClosed = null;
      if (firstClosed == null) {
        lastClosed = null;
      }
      try {
        stream.handler.clientClosed();
      } catch (RuntimeException e) {
        // As the event loop would have for a task of its own: the streams after it still hear.
        log.warn("stream {}: its handler failed on the stream's close", stream.id(), e);
      }
    }
    if (responseDeadlines != null && connection.numActiveStreams() == 0) {
      responseDeadlines.stop(); // nothing waits: an idle connection keeps no task queued
    }
  }

  /** The open stream of that id, or null. */
  private Http2ClientStream stream(int id) {
    Http2Stream http2Stream = connection.stream(id);
    return http2Stream == null ? null : http2Stream.getProperty(streamKey);
  }

  /** The open streams, in a list of their own (closing one changes what is open). */
  List<Http2ClientStream> openStreams() {
    List<Http2ClientStream> open = new ArrayList<>(connection.numActiveStreams());
    try {
      connection.forEachActiveStream(http2Stream -> {
        Http2ClientStream stream = http2Stream.getProperty(streamKey);
        if (stream != null) {
          open.add(stream);
        }
        return true;
      });
    } catch (Http2Exception e) {
      throw new IllegalStateException(e); // the visitor throws nothing
    }
    return open;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Http2StreamFrame frame)) {
      ctx.fireChannelRead(msg);
      return;
    }
    inRead = true;
    if (msg instanceof Http2WindowUpdateFrame update) {
      if (sendTimeout != null) {
        sendTimeout.windowOpened(update.windowSizeIncrement());
      }
      return; // a window's writability comes as an event
    }
    if (msg instanceof Http2PriorityFrame) {
      return; // priorities are not followed (RFC 9113 deprecates them)
    }
    if (msg instanceof Http2ResetFrame) {
      meters.http2ResetReceived(); // the stream's close follows, as an event
      return;
    }
    Http2ClientStream stream = frame.stream() == null ? null : stream(frame.stream().id());
    if (stream != null) {
      stream.onFrame(frame);
      return;
    }
    if (msg instanceof Http2DataFrame data && frame.stream() != null) {
      // A stream already closed here: its bytes count against the connection's window too.
      ctx.write(new DefaultHttp2WindowUpdateFrame(data.initialFlowControlledBytes()).stream(frame.stream()),
          ctx.voidPromise());
    }
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    boolean any = !readComplete.isEmpty();
    try {
      Http2ClientStream stream;
      while ((stream = readComplete.poll()) != null) {
        stream.readCompletePending = false;
        try {
          stream.onReadComplete();
        } catch (RuntimeException e) {
          // Its request (held until now) started here: a failure costs that stream, not the others.
          log.warn("stream {}: its handler failed at the end of a read; the stream is reset", stream.id(), e);
          stream.onError(e);
        }
      }
    } finally {
      inRead = false;
    }
    if (any) {
      ctx.flush();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == FrontendHandler.DrainEvent.TIME_UP) {
      for (Http2ClientStream stream : openStreams()) {
        stream.handler.completion.answerAtDrainTimeout();
      }
      ctx.flush();
      return;
    }
    if (!(evt instanceof Http2FrameStreamEvent event)) {
      ctx.fireUserEventTriggered(evt);
      return;
    }
    Http2FrameStream frameStream = event.stream();
    Http2ClientStream stream = stream(frameStream.id());
    if (event.type() == Http2FrameStreamEvent.Type.Writability) {
      if (stream != null) {
        // Told from inside the flow controller, while Netty handles the client's WINDOW_UPDATE: a
        // relay that reads its backend on at once may end the response and close the stream there,
        // and Netty, back in its frame listener, then finds no stream and ends the whole connection
        // with an internal error. So the stream hears after Netty's work, as budgetCrossed does.
        ctx.executor().execute(stream::onWritabilityChanged);
      }
      return;
    }
    switch (frameStream.state()) {
      case OPEN, HALF_CLOSED_REMOTE -> {
        if (stream == null && connection.remote().isValidStreamId(frameStream.id())) {
          open(frameStream);
        }
      }
      case CLOSED -> {
        if (stream != null) {
          stream.onStreamClosed();
        }
      }
      default -> { }
    }
  }

  /** Whether response bytes of the stream still wait in flow control for the client's window. */
  boolean holdsUnsent(int streamId) {
    Http2Stream stream = connection.stream(streamId);
    return stream != null && connection.remote().flowController().hasFlowControlled(stream);
  }

  /** A stream the client opened: its handler starts (and asks for the stream's frames). */
  private void open(Http2FrameStream frameStream) {
    if (heads == null) {
      heads = new Http2RequestHeads(limits.maxRequestLine(), limits.maxHeaderBytes(), limits.maxHeaderCount());
      sendTimeout = new Http2SendTimeout(ctx, connection, held,
          context.policies().settings.timeouts().clientIdle().toNanos(), meters);
    }
    sendTimeout.streamOpened();
    FrontendHandler handler = FrontendHandler.forStream(context, scheme, memo);
    Http2ClientStream stream = new Http2ClientStream(ctx, frameStream, new Http2StreamCodec(heads, frameStream), this, handler);
    Http2Stream http2Stream = connection.stream(frameStream.id());
    if (http2Stream == null) {
      return; // closed already (its close event follows, or came): nothing to serve
    }
    http2Stream.setProperty(streamKey, stream);
    handler.startOn(stream);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      tellWritabilityChanged();
    }
    ctx.fireChannelWritabilityChanged();
  }

  /** A stream error goes to its stream, whose handler resets it; other errors pass on. */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof Http2FrameStreamException error) {
      Http2ClientStream stream = stream(error.stream().id());
      if (stream != null) {
        stream.onError(error);
      } else {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(error.error()).stream(error.stream()));
      }
      return;
    }
    ctx.fireExceptionCaught(cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (responseDeadlines != null) {
      responseDeadlines.stop();
    }
    if (sendTimeout != null) {
      sendTimeout.stop();
    }
    for (Http2ClientStream stream : openStreams()) {
      stream.onStreamClosed();
    }
    ctx.fireChannelInactive();
  }
}
