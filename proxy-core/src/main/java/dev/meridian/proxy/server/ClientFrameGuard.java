package dev.meridian.proxy.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2LifecycleManager;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Checks what Netty's HTTP/2 decoder lets through from a client, frame by frame in the arriving
 * bytes, before the frames are decoded:
 * <ul>
 *   <li>HEADERS on a stream that is closed (RFC 9113 section 5.1) is a connection error of type
 *       {@code STREAM_CLOSED}, and HEADERS on a stream identifier lower than one already used that was
 *       never opened (section 5.1.1) one of type {@code PROTOCOL_ERROR}. Netty cannot tell these from
 *       a stream it reset, so it answers both with a {@code RST_STREAM} and the connection lives on.
 *       Nothing from the refused frame on is decoded.
 *       Frames on a stream this side reset are still let through (and ignored by Netty), as the
 *       client may have sent them before the reset reached it; once Netty forgot the stream, they are
 *       dropped here (as below), where Netty would answer each DATA frame with another reset
 *       (STREAM_CLOSED): an upload a 413 or a 502 answered early would otherwise count its in-flight
 *       frames as resets the client provoked.</li>
 *   <li>DATA, WINDOW_UPDATE and RST_STREAM on a stream whose header block Netty refused as it read
 *       it (and so reset before the stream existed) are dropped here, as frames on a stream this side
 *       reset are (section 5.1; a DATA frame's bytes still count against the connection's window):
 *       Netty would take them for frames on a stream never opened and end the connection, with
 *       every other stream on it.</li>
 *   <li>A header block (HEADERS and its CONTINUATION frames) must end within the request-head
 *       timeout, as an HTTP/1.1 request head must; a client that leaves one open holds the whole
 *       connection (no other frame may come between), so it gets a GOAWAY and the connection closes.</li>
 *   <li>WINDOW_UPDATE frames beyond {@value #FREE_CONTROL_FRAMES} plus one per
 *       {@value #RESPONSE_BYTES_PER_WINDOW_UPDATE} bytes of responses sent plus
 *       {@value #WINDOW_UPDATES_PER_WRITE} per write of them (a client with a window of a few hundred
 *       bytes grants one per DATA frame or two), and PRIORITY frames beyond
 *       {@value #FREE_CONTROL_FRAMES} plus {@value #PRIORITY_FRAMES_PER_STREAM} per stream opened,
 *       end the connection with {@code ENHANCE_YOUR_CALM}, as Envoy budgets them (Netty limits PING,
 *       SETTINGS, RST_STREAM and empty DATA floods, not these). So do PING and SETTINGS ACKs
 *       (Meridian sends no PING, and its SETTINGS once) and frames of types RFC 9113 does not define (PRIORITY_UPDATE and other extensions),
 *       which Netty reads and drops, beyond the budget of PRIORITY frames. A client grants window for what it
 *       received: Go's client, among the most eager, sends two per 4 KiB read; a flood of them, with
 *       nothing received, cost the proxy's other clients their latency.</li>
 * </ul>
 *
 * <p>It reads each frame header once, as its 9 bytes arrive, keeping its place in the connection's
 * bytes by counting what the decoder consumed, so it costs reading 9 bytes per frame. When a HEADERS
 * frame names a stream used before (trailers, or one of the cases above), the frames before it are
 * decoded first, so that the stream's state is current.
 *
 * <p>One per connection, on its event loop.
 */
final class ClientFrameGuard extends DecoratingHttp2ConnectionDecoder {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClientFrameGuard.class);
  private static final int FRAME_HEADER_LENGTH = 9;
  private static final byte HEADERS = 0x1;
  private static final byte CONTINUATION = 0x9;
  private static final byte DATA = 0x0;
  private static final byte RST_STREAM = 0x3;
  private static final byte WINDOW_UPDATE = 0x8;
  private static final byte PRIORITY = 0x2;
  private static final byte PING = 0x6;
  private static final byte SETTINGS = 0x4;
  private static final int ACK = 0x1;
  /** WINDOW_UPDATE or PRIORITY frames any connection may send whatever it received or opened. */
  static final int FREE_CONTROL_FRAMES = 1024;
  /** A WINDOW_UPDATE is allowed per this many response bytes sent. */
  static final int RESPONSE_BYTES_PER_WINDOW_UPDATE = 512;
  /** WINDOW_UPDATE frames allowed per write of response bytes (Envoy allows 10 per DATA frame sent). */
  static final int WINDOW_UPDATES_PER_WRITE = 10;
  /** PRIORITY frames allowed per stream the client opened (RFC 9113 deprecates them). */
  static final int PRIORITY_FRAMES_PER_STREAM = 100;
  private static final int PADDED = 0x8;
  /**
   * Frames dropped on streams Netty reset as their header blocks were read before the connection is
   * ended with ENHANCE_YOUR_CALM (16 MiB of DATA); on a stream this side reset, at most
   * {@link #DROPPED_FRAMES_PER_RESET} each (its client may have had a window's worth in flight: an
   * upload answered early).
   */
  private static final int MAX_DROPPED_FRAMES = 1024;
  private static final int DROPPED_FRAMES_PER_RESET = 64;
  private static final int END_HEADERS = 0x4;
  /** Streams this side reset that are remembered, so that late frames on them are let through. */
  private static final int RESETS_KEPT = 128; // more than a client's concurrent streams (100)
  /** Gaps in the stream identifiers a client used that are remembered (clients seldom leave any). */
  private static final int GAPS_KEPT = 16;

  private final Http2Connection connection;
  private final long headerBlockTimeoutNanos;
  /** Bytes of the connection (after the preface) the decoder consumed so far. */
  private long consumed;
  /** Where the next frame header not yet looked at starts, counted like {@link #consumed}. */
  private long nextFrameAt;
  private int highestStreamId;
  /** A HEADERS frame without END_HEADERS was looked at, and no CONTINUATION with it yet. */
  private boolean inHeaderBlock;
  /** Bytes of a frame being dropped still to come (see {@link #refusedBeforeOpened}), its header's among them. */
  private int dropRemaining;
  private int dropHeaderLeft;
  private boolean dropData;
  /** Frames dropped on the connection so far: a flood of them is ended like the decoder's floods. */
  private int droppedFrames;
  /** Pairs (first, last) of odd stream identifiers skipped by the client, oldest first. */
  private int[] gaps;
  private int gapCount;
  private int[] resets;
  /** Frames dropped so far on each remembered reset stream, beside {@link #resets}. */
  private int[] resetDrops;
  private int resetCount;
  private boolean failed;
  /**
   * This guard ended the connection (a connection error of its own): the refused frame and the bytes
   * after it are dropped, as Netty's reader drops what follows an error of its own. The decoder still
   * holds them, and decoded they would be acted on before the connection is gone: HEADERS on a stream
   * Netty reset as it decoded its header block (so never saw opened) would open it as a new request.
   */
  private boolean refused;
  /** The response bytes sent on the connection, which its WINDOW_UPDATE budget grows with. */
  private final HeldResponseBytes responses;
  private long windowUpdates;
  private long priorities;
  private long ignoredFrames;
  private Http2LifecycleManager lifecycle;
  private ScheduledFuture<?> headerBlockDeadline;

  ClientFrameGuard(Http2ConnectionDecoder delegate, long headerBlockTimeoutNanos, HeldResponseBytes responses) {
    super(delegate);
    this.responses = responses;
    this.connection = delegate.connection();
    this.headerBlockTimeoutNanos = headerBlockTimeoutNanos;
    connection.addListener(new Http2ConnectionAdapter() {
      @Override
      public void onStreamClosed(Http2Stream stream) {
        if (stream.isResetSent()) {
          rememberReset(stream.id());
        }
      }
    });
  }

  @Override
  public void lifecycleManager(Http2LifecycleManager lifecycleManager) {
    this.lifecycle = lifecycleManager;
    super.lifecycleManager(lifecycleManager);
  }

  @Override
  public void decodeFrame(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Http2Exception {
    if (refused) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (dropRemaining > 0) {
      dropAvailable(in); // the rest of a frame being dropped, as it arrives
      if (dropRemaining > 0) {
        return;
      }
    }
    while (!failed) {
      long ahead = nextFrameAt - consumed;
      if (ahead < 0) {
        failed = true; // the reader skipped input after an error of its own: nothing more to check
        break;
      }
      if (in.readableBytes() - ahead < FRAME_HEADER_LENGTH) {
        break;
      }
      int at = in.readerIndex() + (int) ahead;
      byte type = in.getByte(at + 3);
      int flags = in.getUnsignedByte(at + 4);
      int streamId = in.getInt(at + 5) & Integer.MAX_VALUE;
      if (type == WINDOW_UPDATE && ++windowUpdates > FREE_CONTROL_FRAMES
          && windowUpdates > FREE_CONTROL_FRAMES + responses.sentBytes() / RESPONSE_BYTES_PER_WINDOW_UPDATE
              + WINDOW_UPDATES_PER_WRITE * responses.sentWrites()) {
        flood(ctx, "WINDOW_UPDATE frames", windowUpdates);
      } else if (type == PRIORITY && ++priorities > FREE_CONTROL_FRAMES
          && priorities > FREE_CONTROL_FRAMES + (long) PRIORITY_FRAMES_PER_STREAM * ((highestStreamId + 1) / 2)) {
        flood(ctx, "PRIORITY frames", priorities);
      } else if (isIgnoredFrame(type, flags) && ++ignoredFrames > FREE_CONTROL_FRAMES
          && ignoredFrames > FREE_CONTROL_FRAMES + (long) PRIORITY_FRAMES_PER_STREAM * ((highestStreamId + 1) / 2)) {
        flood(ctx, "PING ACK or extension frames", ignoredFrames);
      }
      if (type == HEADERS) {
        if (streamId <= highestStreamId && streamId != 0) {
          decodeUpTo(ctx, in, at, out);
          check(streamId);
        } else if ((streamId & 1) == 1) {
          opened(streamId);
        }
        headerBlock(ctx, (flags & END_HEADERS) != 0);
      } else if (type == CONTINUATION && (flags & END_HEADERS) != 0) {
        headerBlock(ctx, true);
      } else if (isStreamFrame(type) && !inHeaderBlock && (streamId & 1) == 1 && streamId <= highestStreamId
          && connection.stream(streamId) == null) {
        decodeUpTo(ctx, in, at, out);
        if (in.readerIndex() == at && (refusedBeforeOpened(streamId) || wasReset(streamId))) {
          int payload = in.getUnsignedMedium(at);
          if (type == DATA && (flags & PADDED) != 0 && payload > 0 && in.readableBytes() == FRAME_HEADER_LENGTH) {
            // Its pad length, the payload's first byte, decides whether it is well formed. Nothing of
            // it goes to the decoder meanwhile (the frames before it were decoded).
            return;
          }
          if (isWellFormed(in, at, type, flags, payload)) {
            startDrop(type, streamId);
            dropRemaining = FRAME_HEADER_LENGTH + payload;
            dropData = type == DATA;
            dropHeaderLeft = FRAME_HEADER_LENGTH;
            dropAvailable(in);
            continue;
          }
          // Malformed: the decoder answers it as it answers any such frame.
        }
      }
      nextFrameAt += FRAME_HEADER_LENGTH + in.getUnsignedMedium(at);
    }
    decode(ctx, in, out);
  }

  /**
   * Whether a frame is one Netty reads and drops without a limit: a PING ACK (Meridian sends no PING,
   * so each is unsolicited), a SETTINGS ACK (Meridian sends its SETTINGS once; Netty ignores an ACK
   * of none) or a frame of a type RFC 9113 does not define (an extension such as PRIORITY_UPDATE,
   * which browsers send a few of per stream).
   */
  private static boolean isIgnoredFrame(byte type, int flags) {
    return ((type == PING || type == SETTINGS) && (flags & ACK) != 0) || (type & 0xff) > CONTINUATION;
  }

  /** Ends the connection: more control frames than its budget allows (see the class's description). */
  private void flood(ChannelHandlerContext ctx, String what, long count) throws Http2Exception {
    failed = true;
    refused = true;
    cancelHeaderBlockDeadline();
    log.warn("{}: {} {} beyond the budget ({} response bytes sent, {} streams); connection closed (ENHANCE_YOUR_CALM)",
        ctx.channel().remoteAddress(), count, what, responses.sentBytes(), (highestStreamId + 1) / 2);
    throw Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM, "%d %s beyond the budget", count, what);
  }

  private static boolean isStreamFrame(byte type) {
    return type == DATA || type == RST_STREAM || type == WINDOW_UPDATE;
  }

  /**
   * Whether the client opened the stream (its HEADERS came) but Netty never made it: the decoder
   * refused the header block as it read it (a field HTTP/2 forbids) and reset the stream before it
   * existed. RFC 9113 section 5.1 has frames the client sent on it after that ignored; Netty, not
   * knowing the stream, would take them for frames on a stream never opened and end the connection.
   */
  private boolean refusedBeforeOpened(int streamId) {
    return connection.stream(streamId) == null && !connection.streamMayHaveExisted(streamId) && !skipped(streamId);
  }

  /**
   * Drops a whole frame on a stream {@link #refusedBeforeOpened}; a DATA frame's bytes still count
   * against the connection's flow-control window, and are given back at once.
   */
  private void startDrop(byte type, int streamId) throws Http2Exception {
    int remembered = resetIndex(streamId);
    if (remembered >= 0 ? ++resetDrops[remembered] > DROPPED_FRAMES_PER_RESET : ++droppedFrames > MAX_DROPPED_FRAMES) {
      throw Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM,
          "more than %d frames on a stream reset here", remembered >= 0 ? DROPPED_FRAMES_PER_RESET : MAX_DROPPED_FRAMES);
    }
    log.debug("ignoring a frame of type {} on stream {}, reset here", type, streamId);
  }

  /**
   * Skips what arrived of the frame being dropped (it may come over several reads, never handed to
   * the decoder); a DATA frame's payload still counts against the connection's flow-control window,
   * and is given back at once.
   */
  private void dropAvailable(ByteBuf in) throws Http2Exception {
    int taken = Math.min(dropRemaining, in.readableBytes());
    int header = Math.min(dropHeaderLeft, taken);
    int payload = taken - header;
    if (dropData && payload > 0) {
      connection.local().flowController().receiveFlowControlledFrame(null,
          in.slice(in.readerIndex() + header, payload), 0, false);
    }
    in.skipBytes(taken);
    dropHeaderLeft -= header;
    dropRemaining -= taken;
    consumed += taken;
    nextFrameAt += taken;
  }

  /**
   * Whether a frame on a stream {@link #refusedBeforeOpened} is one the decoder would accept on a
   * stream it reset: within the frame size, a WINDOW_UPDATE or RST_STREAM of 4 bytes, a padded DATA
   * frame's padding within its payload. Any other is left to the decoder, which refuses it.
   */
  private boolean isWellFormed(ByteBuf in, int at, byte type, int flags, int payload) {
    Integer maxFrameSize = localSettings().maxFrameSize();
    if (payload > (maxFrameSize == null ? Http2CodecUtil.DEFAULT_MAX_FRAME_SIZE : maxFrameSize)) {
      return false;
    }
    if (type != DATA) {
      return payload == 4;
    }
    return (flags & PADDED) == 0 || (payload > 0 && in.getUnsignedByte(at + FRAME_HEADER_LENGTH) < payload);
  }

  /** Lets the decoder read what it can, counting what it consumed. */
  private void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Http2Exception {
    int before = in.readerIndex();
    try {
      super.decodeFrame(ctx, in, out);
    } finally {
      consumed += in.readerIndex() - before;
    }
  }

  /** Decodes the whole frames before {@code at}, so that the state of their streams is current. */
  private void decodeUpTo(ChannelHandlerContext ctx, ByteBuf in, int at, List<Object> out) throws Http2Exception {
    if (at == in.readerIndex()) {
      return;
    }
    int end = in.writerIndex();
    in.writerIndex(at);
    try {
      decode(ctx, in, out);
    } finally {
      in.writerIndex(end);
    }
  }

  /** HEADERS on a stream identifier used (or passed over) before: fine on a stream still open or reset here. */
  private void check(int streamId) throws Http2Exception {
    if (connection.stream(streamId) != null || wasReset(streamId)) {
      return;
    }
    failed = true;
    refused = true;
    cancelHeaderBlockDeadline();
    if (skipped(streamId)) {
      throw Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR,
          "HEADERS on stream %d, lower than stream %d already opened", streamId, highestStreamId);
    }
    throw Http2Exception.connectionError(Http2Error.STREAM_CLOSED, "HEADERS on closed stream %d", streamId);
  }

  /** A client opened a stream with a higher identifier than any before; remembers any it passed over. */
  private void opened(int streamId) {
    int expected = highestStreamId == 0 ? 1 : highestStreamId + 2;
    if (streamId > expected) {
      if (gaps == null) {
        gaps = new int[GAPS_KEPT * 2];
      }
      if (gapCount == GAPS_KEPT) {
        System.arraycopy(gaps, 2, gaps, 0, gaps.length - 2);
        gapCount--;
      }
      gaps[gapCount * 2] = expected;
      gaps[gapCount * 2 + 1] = streamId - 2;
      gapCount++;
    }
    highestStreamId = streamId;
  }

  private boolean skipped(int streamId) {
    for (int i = 0; i < gapCount; i++) {
      if (streamId >= gaps[i * 2] && streamId <= gaps[i * 2 + 1]) {
        return true;
      }
    }
    return false;
  }

  private void rememberReset(int streamId) {
    if (resets == null) {
      resets = new int[RESETS_KEPT];
      resetDrops = new int[RESETS_KEPT];
    }
    int slot = resetCount++ % RESETS_KEPT;
    resets[slot] = streamId;
    resetDrops[slot] = 0;
  }

  private boolean wasReset(int streamId) {
    return resetIndex(streamId) >= 0;
  }

  /** Where a stream this side reset is remembered, or -1. */
  private int resetIndex(int streamId) {
    int n = Math.min(resetCount, RESETS_KEPT);
    for (int i = 0; i < n; i++) {
      if (resets[i] == streamId) {
        return i;
      }
    }
    return -1;
  }

  /** A header block started (or ended): arms (or disarms) its deadline. */
  private void headerBlock(ChannelHandlerContext ctx, boolean ended) {
    inHeaderBlock = !ended;
    if (ended) {
      cancelHeaderBlockDeadline();
    } else if (headerBlockDeadline == null) {
      headerBlockDeadline = ctx.executor().schedule(() -> headerBlockTimedOut(ctx), headerBlockTimeoutNanos,
          TimeUnit.NANOSECONDS);
    }
  }

  private void cancelHeaderBlockDeadline() {
    if (headerBlockDeadline != null) {
      headerBlockDeadline.cancel(false);
      headerBlockDeadline = null;
    }
  }

  private void headerBlockTimedOut(ChannelHandlerContext ctx) {
    headerBlockDeadline = null;
    if (!ctx.channel().isActive() || lifecycle == null) {
      return;
    }
    failed = true;
    refused = true;
    log.info("{}: HTTP/2 header block not finished within {} ms; connection closed",
        ctx.channel().remoteAddress(), TimeUnit.NANOSECONDS.toMillis(headerBlockTimeoutNanos));
    lifecycle.onError(ctx, false, Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM,
        "header block not finished within %d ms", TimeUnit.NANOSECONDS.toMillis(headerBlockTimeoutNanos)));
  }

  @Override
  public void close() {
    cancelHeaderBlockDeadline();
    super.close();
  }
}
