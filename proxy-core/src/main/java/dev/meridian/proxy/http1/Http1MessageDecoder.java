package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import java.util.List;

/**
 * Decodes HTTP/1.1 messages on one connection: each head (by the subclass, in place), then its body as
 * the buffers that arrived, sliced (never copied or aggregated): up to a Content-Length, chunk by
 * chunk with the trailer section in the {@link LastHttpContent}, or until the connection closes.
 * Every message ends with a {@code LastHttpContent}.
 *
 * <p>A body that breaks the framing rules ends with a {@code LastHttpContent} whose
 * {@link DecoderResult} failed; after it the rest of the connection's input is discarded.
 */
abstract class Http1MessageDecoder extends ByteToMessageDecoder {
  /** Largest body slice handed on at once, in bytes. */
  static final int MAX_BODY_PART = 64 * 1024;
  /** Longest chunk-size line (size and extensions), in bytes. */
  private static final int MAX_CHUNK_LINE = 4096;

  /** Where in a message the decoder is. */
  enum State { HEAD, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, UNTIL_CLOSE, RAW, DISCARD }

  private final int maxTrailerBytes;
  private State state = State.HEAD;
  /** The message just decoded waits for its answer before the next head is read (see {@link #holdNextHead}). */
  private boolean holdingNextHead;
  /** The context {@link #decode} last ran in: where {@link #releaseNextHead} decodes what was held. */
  private ChannelHandlerContext context;
  private long remaining;
  private HttpHeaders trailers;
  private int trailerBytes;
  /** Field lines of the trailer section being read. */
  private int trailerFields;
  /** The most field lines a trailer section may have (a head's default limit). */
  static final int MAX_TRAILER_FIELDS = 256;

  Http1MessageDecoder(int maxTrailerBytes) {
    this.maxTrailerBytes = maxTrailerBytes;
  }

  /** Where the decoder is. */
  final State state() {
    return state;
  }

  /** Whether a message's body is being read: its head came, its end has not. */
  public final boolean inBody() {
    return state == State.FIXED_BODY || state == State.CHUNK_SIZE || state == State.CHUNK_DATA
        || state == State.CHUNK_DATA_END || state == State.TRAILERS;
  }

  /**
   * Reads a head from the buffer, adds it (and, through {@link #startBody}, how its body is framed) to
   * the output; returns false when more bytes are needed or the head was refused.
   */
  abstract boolean decodeHead(ByteBuf in, List<Object> out);

  /** After a head: the body follows as framed; a message without a body ends at once. */
  final void startBody(List<Object> out, boolean chunked, long contentLength, boolean untilClose) {
    if (chunked) {
      state = State.CHUNK_SIZE;
    } else if (contentLength > 0) {
      remaining = contentLength;
      state = State.FIXED_BODY;
    } else if (untilClose) {
      state = State.UNTIL_CLOSE;
    } else {
      out.add(LastHttpContent.EMPTY_LAST_CONTENT);
    }
  }

  /** The connection stops speaking HTTP/1.1 (after a 101): what follows is handed on as bytes. */
  final void switchToRaw() {
    state = State.RAW;
  }

  /**
   * Once the current message ends, reads no further head until {@link #releaseNextHead}: the bytes
   * after it stay in the decoder, undecoded. A request asking to switch protocols waits so: if the
   * answer is 101, those bytes are the new protocol's and are handed on as they came (when the codec is
   * removed); otherwise they are read as the next request.
   */
  final void holdNextHead() {
    holdingNextHead = true;
  }

  /** Whether bytes after the current message are held undecoded (see {@link #holdNextHead}). */
  public final boolean holdsBytes() {
    return holdingNextHead && state == State.HEAD && internalBuffer().isReadable();
  }

  /** Whether the next head waits for {@link #releaseNextHead}. */
  final boolean isHoldingNextHead() {
    return holdingNextHead;
  }

  /**
   * Reads heads again after {@link #holdNextHead}, and decodes at once the bytes held meanwhile
   * (its messages are handed on before this returns). Call it on the channel's event loop.
   */
  public final void releaseNextHead() throws Exception {
    if (!holdingNextHead) {
      return;
    }
    holdingNextHead = false;
    if (context != null && !context.isRemoved() && internalBuffer().isReadable()) {
      channelRead(context, Unpooled.EMPTY_BUFFER);
    }
  }

  /** Discards the rest of the connection's input (after a refused head). */
  final void discardInput(ByteBuf in) {
    in.skipBytes(in.readableBytes());
    state = State.DISCARD;
  }

  @Override
  protected final void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    context = ctx;
    while (in.isReadable()) {
      boolean progressed = switch (state) {
        case HEAD -> !holdingNextHead && decodeHead(in, out);
        case FIXED_BODY -> decodeFixedBody(in, out);
        case CHUNK_SIZE -> decodeChunkSize(in, out);
        case CHUNK_DATA -> decodeChunkData(in, out);
        case CHUNK_DATA_END -> decodeChunkDataEnd(in, out);
        case TRAILERS -> decodeTrailers(in, out);
        case UNTIL_CLOSE -> {
          out.add(new DefaultHttpContent(in.readRetainedSlice(Math.min(in.readableBytes(), MAX_BODY_PART))));
          yield true;
        }
        case RAW -> {
          out.add(in.readRetainedSlice(in.readableBytes()));
          yield false;
        }
        case DISCARD -> {
          in.skipBytes(in.readableBytes());
          yield false;
        }
      };
      if (!progressed) {
        return;
      }
    }
  }

  @Override
  protected final void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    // The client ended its input: Netty's decoder drops what it holds once this returns, so what
    // followed an upgrade request is read as requests now (a client that ends its input cannot use
    // a tunnel; its pipelined requests are still answered, or dropped on a 101 as before the hold).
    holdingNextHead = false;
    super.decodeLast(ctx, in, out);
    if (state == State.UNTIL_CLOSE) {
      // A body delimited by the connection's close is complete now.
      state = State.HEAD;
      out.add(LastHttpContent.EMPTY_LAST_CONTENT);
    }
  }

  private boolean decodeFixedBody(ByteBuf in, List<Object> out) {
    int length = (int) Math.min(Math.min(remaining, in.readableBytes()), MAX_BODY_PART);
    ByteBuf part = in.readRetainedSlice(length);
    remaining -= length;
    if (remaining == 0) {
      state = State.HEAD;
      out.add(new DefaultLastHttpContent(part, EmptyHttpHeaders.INSTANCE));
    } else {
      out.add(new DefaultHttpContent(part));
    }
    return true;
  }

  private boolean decodeChunkSize(ByteBuf in, List<Object> out) {
    int from = in.readerIndex();
    int lf = in.indexOf(from, Math.min(in.writerIndex(), from + MAX_CHUNK_LINE), (byte) '\n');
    if (lf < 0) {
      if (in.readableBytes() >= MAX_CHUNK_LINE) {
        return rejectBody(in, out, "a chunk-size line longer than " + MAX_CHUNK_LINE + " bytes");
      }
      return false;
    }
    if (lf == from || in.getByte(lf - 1) != '\r') {
      return rejectBody(in, out, "a chunk-size line that does not end with CR LF");
    }
    byte[] line = new byte[lf - 1 - from];
    in.getBytes(from, line);
    long size = chunkSize(line);
    if (size < 0) {
      return rejectBody(in, out, "a malformed chunk size");
    }
    in.readerIndex(lf + 1);
    if (size == 0) {
      state = State.TRAILERS;
      trailerBytes = 0;
    } else {
      remaining = size;
      state = State.CHUNK_DATA;
    }
    return true;
  }

  /** The chunk size on a chunk-size line (hex digits, then well-formed extensions), or -1. */
  private static long chunkSize(byte[] line) {
    long size = 0;
    int index = 0;
    while (index < line.length) {
      int digit = Character.digit(line[index], 16);
      if (digit < 0) {
        break;
      }
      if (size > (Long.MAX_VALUE >> 4)) {
        return -1;
      }
      size = size * 16 + digit;
      index++;
    }
    if (index == 0 || !FieldSyntax.isChunkExtensions(line, index, line.length)) {
      return -1;
    }
    return size;
  }

  private boolean decodeChunkData(ByteBuf in, List<Object> out) {
    int length = (int) Math.min(Math.min(remaining, in.readableBytes()), MAX_BODY_PART);
    out.add(new DefaultHttpContent(in.readRetainedSlice(length)));
    remaining -= length;
    if (remaining == 0) {
      state = State.CHUNK_DATA_END;
    }
    return true;
  }

  private boolean decodeChunkDataEnd(ByteBuf in, List<Object> out) {
    if (in.readableBytes() < 2) {
      return in.getByte(in.readerIndex()) != '\r' && rejectBody(in, out, "chunk data not followed by CR LF");
    }
    if (in.getByte(in.readerIndex()) != '\r' || in.getByte(in.readerIndex() + 1) != '\n') {
      return rejectBody(in, out, "chunk data not followed by CR LF");
    }
    in.skipBytes(2);
    state = State.CHUNK_SIZE;
    return true;
  }

  private boolean decodeTrailers(ByteBuf in, List<Object> out) {
    int from = in.readerIndex();
    int lf = in.indexOf(from, in.writerIndex(), (byte) '\n');
    if (lf < 0) {
      if (trailerBytes + in.readableBytes() > maxTrailerBytes) {
        return rejectBody(in, out, tooLongTrailers());
      }
      return false;
    }
    if (lf == from || in.getByte(lf - 1) != '\r') {
      return rejectBody(in, out, "a trailer line that does not end with CR LF");
    }
    trailerBytes += lf + 1 - from;
    if (trailerBytes > maxTrailerBytes) {
      return rejectBody(in, out, tooLongTrailers());
    }
    if (lf - 1 == from) {
      in.readerIndex(lf + 1);
      HttpHeaders received = trailers;
      trailers = null;
      state = State.HEAD;
      out.add(received == null ? LastHttpContent.EMPTY_LAST_CONTENT
          : new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, received));
      return true;
    }
    if (trailers == null) {
      trailers = DefaultHttpHeadersFactory.trailersFactory().withValidation(true).newHeaders();
      trailerFields = 0;
    }
    if (++trailerFields > MAX_TRAILER_FIELDS) {
      // As a head's field count is bounded: thousands of small fields would each cost an object here
      // and a field (and, toward HTTP/2, HPACK work) for the client.
      return rejectBody(in, out, new TooManyHeadersException(MAX_TRAILER_FIELDS));
    }
    byte[] line = new byte[lf - 1 - from];
    in.getBytes(from, line);
    try {
      FieldSyntax.parseTrailer(line, 0, line.length, trailers);
    } catch (DecoderException e) {
      return rejectBody(in, out, e);
    }
    in.readerIndex(lf + 1);
    return true;
  }

  private TooLongHttpHeaderException tooLongTrailers() {
    return new TooLongHttpHeaderException("the trailer section is larger than " + maxTrailerBytes + " bytes");
  }

  private boolean rejectBody(ByteBuf in, List<Object> out, String why) {
    return rejectBody(in, out, new MalformedHeadException(why));
  }

  private boolean rejectBody(ByteBuf in, List<Object> out, DecoderException cause) {
    discardInput(in);
    trailers = null;
    LastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, EmptyHttpHeaders.INSTANCE);
    failed.setDecoderResult(DecoderResult.failure(cause));
    out.add(failed);
    return false;
  }
}
