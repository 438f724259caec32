package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import java.util.List;
import java.util.function.Consumer;

/**
 * Decodes the requests of one HTTP/1.1 client connection: each head in place into a
 * {@link RawRequest} (see {@link RequestHeadParser} for the rules), then its body as the buffers
 * that arrived, sliced (never copied or aggregated): up to Content-Length, or chunk by chunk, with the
 * trailer section in the {@link LastHttpContent}. Every request ends with a {@code LastHttpContent}.
 *
 * <p>A head that breaks a rule is handed on as a request whose {@link DecoderResult} failed (its
 * cause says which limit or rule), a body that breaks one as a failed {@code LastHttpContent}; after
 * either, the rest of the connection's input is discarded, so nothing of it can reach a backend.
 */
public final class Http1RequestDecoder extends ByteToMessageDecoder {
  /** Largest body slice handed on at once, in bytes. */
  static final int MAX_BODY_PART = 64 * 1024;
  /** Longest chunk-size line (size and extensions), in bytes. */
  private static final int MAX_CHUNK_LINE = 4096;

  private enum State { HEAD, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, DISCARD }

  private final RequestHeadParser parser;
  private final Consumer<HttpMethod> methods;
  private final int maxHeaderBytes;
  private State state = State.HEAD;
  private long remaining;
  private HttpHeaders trailers;
  private int trailerBytes;
  private long headStartNanos;

  /**
   * Creates the decoder of one connection.
   *
   * @param maxRequestLine longest request line in bytes
   * @param maxHeaderBytes largest header section (and trailer section) in bytes
   * @param maxHeaderCount most header fields in one head
   * @param methods        told each decoded request's method, in order (for the response encoder)
   */
  public Http1RequestDecoder(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount,
      Consumer<HttpMethod> methods) {
    this.parser = new RequestHeadParser(maxRequestLine, maxHeaderBytes, maxHeaderCount);
    this.methods = methods;
    this.maxHeaderBytes = maxHeaderBytes;
  }

  /** Whether bytes of a request head have arrived whose head is not complete yet. */
  public boolean hasPartialHead() {
    return state == State.HEAD && (parser.inProgress() || internalBuffer().isReadable());
  }

  /** When the first byte of the head now being received arrived (System.nanoTime), or 0 when none is. */
  public long partialHeadSinceNanos() {
    return state == State.HEAD ? headStartNanos : 0;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      boolean progressed = switch (state) {
        case HEAD -> decodeHead(in, out);
        case FIXED_BODY -> decodeFixedBody(in, out);
        case CHUNK_SIZE -> decodeChunkSize(in, out);
        case CHUNK_DATA -> decodeChunkData(in, out);
        case CHUNK_DATA_END -> decodeChunkDataEnd(in, out);
        case TRAILERS -> decodeTrailers(in, out);
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

  private boolean decodeHead(ByteBuf in, List<Object> out) {
    if (!parser.inProgress()) {
      // RFC 9112 section 2.2: empty lines before a request line are ignored.
      while (in.readableBytes() >= 2 && in.getByte(in.readerIndex()) == '\r'
          && in.getByte(in.readerIndex() + 1) == '\n') {
        in.skipBytes(2);
      }
      if (!in.isReadable() || (in.readableBytes() == 1 && in.getByte(in.readerIndex()) == '\r')) {
        return false;
      }
      if (headStartNanos == 0) {
        headStartNanos = System.nanoTime();
      }
    }
    RawRequest request;
    try {
      request = parser.parse(in);
    } catch (DecoderException e) {
      rejectHead(in, out, e);
      return false;
    }
    if (request == null) {
      return false;
    }
    headStartNanos = 0;
    methods.accept(request.method());
    out.add(request);
    if (request.isChunked()) {
      state = State.CHUNK_SIZE;
    } else if (request.contentLength() > 0) {
      remaining = request.contentLength();
      state = State.FIXED_BODY;
    } else {
      out.add(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    return true;
  }

  private void rejectHead(ByteBuf in, List<Object> out, DecoderException cause) {
    in.skipBytes(in.readableBytes());
    state = State.DISCARD;
    headStartNanos = 0;
    DefaultFullHttpRequest failed =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request");
    failed.setDecoderResult(DecoderResult.failure(cause));
    methods.accept(failed.method());
    out.add(failed);
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
    long size = chunkSize(in, from, lf - 1);
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
  private static long chunkSize(ByteBuf in, int from, int end) {
    long size = 0;
    int index = from;
    while (index < end) {
      int digit = Character.digit(in.getByte(index), 16);
      if (digit < 0) {
        break;
      }
      if (size > (Long.MAX_VALUE >> 4)) {
        return -1;
      }
      size = size * 16 + digit;
      index++;
    }
    if (index == from || !RequestHeadParser.isChunkExtensions(in, index, end)) {
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
      return in.getByte(in.readerIndex()) == '\r' ? false : rejectBody(in, out, "chunk data not followed by CR LF");
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
      if (trailerBytes + in.readableBytes() > maxHeaderBytes) {
        return rejectBody(in, out, new TooLongHttpHeaderException("the trailer section is larger than "
            + maxHeaderBytes + " bytes"));
      }
      return false;
    }
    if (lf == from || in.getByte(lf - 1) != '\r') {
      return rejectBody(in, out, "a trailer line that does not end with CR LF");
    }
    trailerBytes += lf + 1 - from;
    if (trailerBytes > maxHeaderBytes) {
      return rejectBody(in, out, new TooLongHttpHeaderException("the trailer section is larger than "
          + maxHeaderBytes + " bytes"));
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
    }
    try {
      RequestHeadParser.parseTrailer(in, from, lf - 1, trailers);
    } catch (DecoderException e) {
      return rejectBody(in, out, e);
    }
    in.readerIndex(lf + 1);
    return true;
  }

  private boolean rejectBody(ByteBuf in, List<Object> out, String why) {
    return rejectBody(in, out, new MalformedHeadException(why));
  }

  private boolean rejectBody(ByteBuf in, List<Object> out, DecoderException cause) {
    in.skipBytes(in.readableBytes());
    state = State.DISCARD;
    trailers = null;
    LastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, EmptyHttpHeaders.INSTANCE);
    failed.setDecoderResult(DecoderResult.failure(cause));
    out.add(failed);
    return false;
  }
}
