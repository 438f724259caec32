package dev.meridian.proxy.server;

import dev.meridian.proxy.http1.Http1RequestDecoder;
import dev.meridian.proxy.http1.Http2RequestHeads;
import dev.meridian.proxy.http1.MalformedHeadException;
import dev.meridian.proxy.http1.RawHeaders;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.ReadOnlyHttp2Headers;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.PromiseCombiner;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * Translates one client HTTP/2 stream between its frames and the HTTP/1.1 messages
 * {@link FrontendHandler} handles, directly to and from the forms the forwarding path uses:
 * <ul>
 *   <li>the request's HEADERS frame becomes the same in-place head an HTTP/1.1 client's request makes
 *       ({@link Http2RequestHeads}: same rules, same limits, same fast rewriting and writing upstream),
 *       followed by the end of the request when the frame ended the stream; a header block that breaks
 *       a rule becomes a request carrying the failure, answered 400, 414 or 431 like on HTTP/1.1;
 *   <li>DATA frames become body content (the frame's buffer is handed on, not copied), a later
 *       HEADERS frame the request's trailers (a value with CR, LF or NUL resets the stream);
 *   <li>a response head's fields go into the HEADERS frame as they are, names lower-cased and
 *       connection-specific fields left out, without passing through intermediate header objects.
 * </ul>
 * Frames that are not HEADERS or DATA pass through both ways.
 *
 * <p>Not a handler: the stream's {@link Http2ClientStream} hands it each frame that arrives and each
 * message written to the client, whose frames go to the connection's frame codec as frames of the
 * stream. One instance per stream, used on its connection's event loop.
 */
final class Http2StreamCodec {
  private static final AsciiString TRAILERS = AsciiString.cached("trailers");
  private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

  private final Http2RequestHeads heads;
  /** The stream the frames written belong to (null: left to the channel they are written to). */
  private final Http2FrameStream stream;
  /** The request's head was read: a further HEADERS frame carries its trailers. */
  private boolean headRead;
  /** A frame that ends the stream was written. */
  private boolean endSent;

  /** Where the messages a stream's frames become go: the stream's {@link FrontendHandler}. */
  interface Receiver {
    /** Takes one message read from the stream (the receiver owns it). */
    void receive(Object msg);
  }

  /**
   * Creates the codec of one stream.
   *
   * @param heads  the reader of the connection's request heads, which its streams share
   * @param stream the stream, which each frame written names (null leaves that to the channel written to)
   */
  Http2StreamCodec(Http2RequestHeads heads, Http2FrameStream stream) {
    this.heads = heads;
    this.stream = stream;
  }

  /** Whether a frame that ends the stream (END_STREAM) was written. */
  boolean endSent() {
    return endSent;
  }

  // ---- client to proxy ---------------------------------------------------------------------

  /**
   * Translates a frame read on the stream and hands the result on: a request head (followed by the
   * request's end when the frame ended the stream), a body part, the request's trailers, or any other
   * frame as it is.
   *
   * @throws Http2Exception a stream error, for trailers that break the rules
   */
  void read(Object msg, ByteBufAllocator alloc, Receiver to) throws Http2Exception {
    if (msg instanceof Http2HeadersFrame frame) {
      if (headRead) {
        to.receive(trailers(frame));
        return;
      }
      headRead = true;
      to.receive(request(frame, alloc));
      if (frame.isEndStream()) {
        to.receive(LastHttpContent.EMPTY_LAST_CONTENT);
      }
    } else if (msg instanceof Http2DataFrame data) {
      to.receive(data.isEndStream()
          ? new DefaultLastHttpContent(data.content(), false)
          : new DefaultHttpContent(data.content()));
    } else {
      to.receive(msg);
    }
  }

  private HttpRequest request(Http2HeadersFrame frame, ByteBufAllocator alloc) {
    Http2Headers headers = frame.headers();
    try {
      return heads.read(headers, !frame.isEndStream(), alloc);
    } catch (DecoderException e) {
      // The method and :path as sent when they can stand in a request (for the access log; a HEAD's
      // answer has no body), else "-" and /.
      CharSequence sentMethod = headers.method();
      CharSequence sentPath = headers.path();
      HttpMethod method = Http1RequestDecoder.UNREADABLE;
      if (sentMethod != null && sentMethod.length() <= 32) {
        try {
          method = HttpMethod.valueOf(sentMethod.toString());
        } catch (IllegalArgumentException notAMethod) {
          // empty, or holds a character no token may (a space, a quote, a control): "-" stands in
        }
      }
      String target = sentPath != null && sentPath.length() > 0 ? loggable(sentPath) : "/";
      HttpRequest refused = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, target);
      refused.setDecoderResult(DecoderResult.failure(e));
      return refused;
    }
  }

  /**
   * A refused :path for the access log: at most 2048 characters, with spaces and control characters
   * percent-encoded (a request line holds none; the log shows them so).
   */
  private static String loggable(CharSequence path) {
    int end = Math.min(path.length(), 2048);
    StringBuilder out = new StringBuilder(end);
    for (int i = 0; i < end; i++) {
      char c = path.charAt(i);
      if (c <= ' ' || c == 0x7f) {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** The trailers of the request's body: the last HEADERS frame, which must end the stream. */
  private LastHttpContent trailers(Http2HeadersFrame frame) throws Http2Exception {
    int stream = frame.stream() == null ? 0 : frame.stream().id();
    if (!frame.isEndStream()) {
      throw Http2Exception.streamError(stream, Http2Error.PROTOCOL_ERROR,
          "a HEADERS frame after the request's head that does not end the stream");
    }
    try {
      return heads.trailers(frame.headers());
    } catch (MalformedHeadException e) {
      throw Http2Exception.streamError(stream, Http2Error.PROTOCOL_ERROR, e, "%s", e.getMessage());
    }
  }

  // ---- proxy to client ---------------------------------------------------------------------

  /**
   * Writes a message for the client through the stream's context as the frames it becomes; anything
   * but an HTTP message (a RST_STREAM, say) is written as it is.
   */
  void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!(msg instanceof HttpObject)) {
      if (msg instanceof Http2StreamFrame frame && frame.stream() == null && stream != null) {
        frame.stream(stream);
      }
      ctx.write(msg, promise);
      return;
    }
    if (msg instanceof HttpResponse response) {
      writeResponse(ctx, response, promise);
    } else if (msg instanceof LastHttpContent last) {
      writeEnd(ctx, last, promise);
    } else if (msg instanceof HttpContent content) {
      send(ctx, new DefaultHttp2DataFrame(content.content(), false), promise);
    } else {
      ctx.write(msg, promise);
    }
  }

  private void writeResponse(ChannelHandlerContext ctx, HttpResponse response, ChannelPromise promise) {
    Http2Headers headers = responseHeaders(response);
    if (!(response instanceof FullHttpMessage full)) {
      send(ctx, new DefaultHttp2HeadersFrame(headers, false), promise);
      return;
    }
    boolean informational = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
    if (informational || (!full.content().isReadable() && full.trailingHeaders().isEmpty())) {
      // A 100 Continue leaves the stream open for the final response; an empty response ends it.
      full.release();
      send(ctx, new DefaultHttp2HeadersFrame(headers, !informational), promise);
      return;
    }
    if (promise.isVoid()) {
      send(ctx, new DefaultHttp2HeadersFrame(headers, false), promise);
      writeEnd(ctx, full, promise);
      return;
    }
    PromiseCombiner all = new PromiseCombiner(ctx.executor());
    all.add(send(ctx, new DefaultHttp2HeadersFrame(headers, false), ctx.newPromise()));
    all.add(writeEnd(ctx, full, ctx.newPromise()));
    all.finish(promise);
  }

  /**
   * The end of a message: its content (handed on, not copied) as the last DATA frame, with its
   * trailers, if any, as a HEADERS frame after it. An end with neither content nor trailers is an
   * empty DATA frame that ends the stream.
   */
  private ChannelFuture writeEnd(ChannelHandlerContext ctx, LastHttpContent last, ChannelPromise promise) {
    boolean hasTrailers = !last.trailingHeaders().isEmpty();
    if (!hasTrailers) {
      return send(ctx, new DefaultHttp2DataFrame(last.content(), true), promise);
    }
    Http2Headers trailers = ReadOnlyHttp2Headers.trailers(false, flatFields(last.trailingHeaders()));
    if (!last.content().isReadable()) {
      last.release();
      return send(ctx, new DefaultHttp2HeadersFrame(trailers, true), promise);
    }
    if (promise.isVoid()) {
      send(ctx, new DefaultHttp2DataFrame(last.content(), false), promise);
      return send(ctx, new DefaultHttp2HeadersFrame(trailers, true), promise);
    }
    PromiseCombiner both = new PromiseCombiner(ctx.executor());
    both.add(send(ctx, new DefaultHttp2DataFrame(last.content(), false), ctx.newPromise()));
    both.add(send(ctx, new DefaultHttp2HeadersFrame(trailers, true), ctx.newPromise()));
    both.finish(promise);
    return promise;
  }

  /** Writes a frame of the stream, noting whether it ends the stream. */
  private ChannelFuture send(ChannelHandlerContext ctx, Http2StreamFrame frame, ChannelPromise promise) {
    if (stream != null) {
      frame.stream(stream);
    }
    if (frame instanceof Http2DataFrame data ? data.isEndStream() : ((Http2HeadersFrame) frame).isEndStream()) {
      endSent = true;
    }
    return ctx.write(frame, promise);
  }

  /**
   * A response head's header block: its status and fields in a flat, read-only block, which the
   * HPACK encoder only ever iterates (a {@code DefaultHttp2Headers} hashed and linked an entry per
   * field, and checked each name, for that one pass).
   */
  private static Http2Headers responseHeaders(HttpResponse response) {
    return ReadOnlyHttp2Headers.serverHeaders(false, response.status().codeAsText(),
        flatFields(response.headers()));
  }

  /**
   * The fields as name, value, name, value..., names lower-cased, without the connection-specific
   * ones HTTP/2 forbids (RFC 9113 section 8.2.2). A response's own hop-by-hop fields (those its
   * Connection names included) were already taken out by {@link dev.meridian.proxy.http.ResponseHeadRewriter}.
   */
  private static AsciiString[] flatFields(HttpHeaders fields) {
    FlatFields flat = new FlatFields(fields.size());
    if (fields instanceof RawHeaders raw) {
      raw.forEachField(flat);
    } else {
      Iterator<Map.Entry<CharSequence, CharSequence>> it = fields.iteratorCharSequence();
      while (it.hasNext()) {
        Map.Entry<CharSequence, CharSequence> field = it.next();
        flat.field(AsciiString.of(field.getKey()), AsciiString.of(field.getValue()));
      }
    }
    return flat.toArray();
  }

  /** Collects fields into a name, value, ... array, leaving the connection-specific ones out. */
  private static final class FlatFields implements RawHeaders.FieldVisitor {
    private AsciiString[] pairs;
    private int length;

    FlatFields(int fields) {
      pairs = new AsciiString[fields * 2];
    }

    @Override
    public void field(AsciiString name, AsciiString value) {
      AsciiString lower = LowerCaseFieldNames.of(name);
      if (isConnectionSpecific(lower, value)) {
        return;
      }
      if (length == pairs.length) {
        pairs = Arrays.copyOf(pairs, Math.max(4, length * 2));
      }
      pairs[length++] = lower;
      pairs[length++] = value;
    }

    AsciiString[] toArray() {
      return length == pairs.length ? pairs : Arrays.copyOf(pairs, length);
    }
  }

  private static boolean isConnectionSpecific(AsciiString name, AsciiString value) {
    switch (name.length()) {
      case 2:
        return HttpHeaderNames.TE.contentEquals(name) && !TRAILERS.contentEqualsIgnoreCase(value);
      case 7:
        return HttpHeaderNames.UPGRADE.contentEquals(name);
      case 10:
        return HttpHeaderNames.CONNECTION.contentEquals(name) || HttpHeaderNames.KEEP_ALIVE.contentEquals(name);
      case 16:
        return PROXY_CONNECTION.contentEquals(name);
      case 17:
        return HttpHeaderNames.TRANSFER_ENCODING.contentEquals(name);
      default:
        return false;
    }
  }
}
