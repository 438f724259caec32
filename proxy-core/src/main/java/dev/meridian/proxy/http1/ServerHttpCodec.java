package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;

/**
 * The client-facing HTTP/1.1 codec: an {@link Http1RequestDecoder} with the configured limits (heads
 * read in place, strictly) and a response encoder that knows which responses answer HEAD requests.
 * A failed request carries its cause in its {@link io.netty.handler.codec.DecoderResult}.
 */
public final class ServerHttpCodec
    extends CombinedChannelDuplexHandler<Http1RequestDecoder, HttpResponseEncoder> {

  private final Http1RequestDecoder decoder;

  /**
   * Creates the codec.
   *
   * @param maxRequestLine longest request line in bytes
   * @param maxHeaderBytes largest header section in bytes
   * @param maxHeaderCount most header fields in one request
   */
  public ServerHttpCodec(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount) {
    MethodQueue methods = new MethodQueue();
    this.decoder = new Http1RequestDecoder(maxRequestLine, maxHeaderBytes, maxHeaderCount, methods::add);
    init(decoder, new HeadAwareResponseEncoder(methods));
  }

  /** Whether part of a request head has arrived and the rest has not (for the 408 timeout). */
  public boolean hasPartialHead() {
    return decoder.hasPartialHead();
  }

  /** Whether a request body is being read: its head came, its end has not. */
  public boolean inRequestBody() {
    return decoder.inBody();
  }

  /**
   * Whether bytes that followed a request asking to switch protocols wait, undecoded, for its answer
   * (the client should not be read further until it comes).
   */
  public boolean holdsBytesAfterUpgradeRequest() {
    return decoder.holdsBytes();
  }

  /**
   * The answer to a request asking to switch protocols was not 101: reads what followed it as HTTP/1.1
   * again, handing on at once the requests already received. (On a 101 the codec is removed instead,
   * and what followed goes on as bytes.)
   */
  public void readOnAfterUpgradeRefused() throws Exception {
    decoder.releaseNextHead();
  }

  /**
   * When the first byte of the request head now arriving came (System.nanoTime), or 0 when no head
   * is partly received: the 408 deadline counts from there.
   */
  public long partialHeadSinceNanos() {
    return decoder.partialHeadSinceNanos();
  }

  /**
   * Encodes responses; a response to HEAD, and any 1xx, 204 or 304, is written without a body. A
   * backend's head read in place ({@link RawResponse}) goes out as its kept field lines.
   */
  private static final class HeadAwareResponseEncoder extends HttpResponseEncoder {
    private final MethodQueue methods;
    /** Where the encoder's end-of-message marker goes when a {@link WholeResponse} needs none. */
    private final List<Object> discarded = new ArrayList<>(1);
    /** The last head encoded answers HEAD or is a 1xx, 204 or 304: no body goes with it. */
    private boolean lastBodiless;

    HeadAwareResponseEncoder(MethodQueue methods) {
      this.methods = methods;
    }

    /**
     * A {@link WholeResponse} goes out as one buffer when its body fits in the room left in the
     * head's buffer (one {@code send} instead of a two-part {@code writev}), otherwise as the head's
     * buffer and the body's slice (not copied), handed on together.
     */
    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
      if (!(msg instanceof WholeResponse whole)) {
        super.encode(ctx, msg, out);
        return;
      }
      boolean bodyDone;
      try {
        super.encode(ctx, whole.head(), out);
        super.encode(ctx, LastHttpContent.EMPTY_LAST_CONTENT, discarded);
        bodyDone = lastBodiless || appendToHead(whole.content(), out);
      } catch (Exception | Error e) {
        whole.release();
        throw e;
      } finally {
        discarded.clear();
      }
      if (bodyDone) {
        whole.release();
      } else {
        out.add(whole.content());
      }
    }

    /**
     * Copies a small body into the head's buffer when it fits in the room the buffer can take without
     * moving (its capacity may first have to grow into that room). The copy reads
     * through {@link ByteBuf#getBytes(int, ByteBuf, int, int)} into the head's buffer, a memory copy
     * between direct buffers (writing the body into the head would make a NIO view of the slice).
     */
    private static boolean appendToHead(ByteBuf body, List<Object> out) {
      int length = body.readableBytes();
      if (out.isEmpty() || !(out.get(out.size() - 1) instanceof ByteBuf head)
          || head.maxFastWritableBytes() < length) {
        return false;
      }
      head.ensureWritable(length); // within the fast-writable room: grows in place, no copy
      body.getBytes(body.readerIndex(), head, head.writerIndex(), length);
      head.writerIndex(head.writerIndex() + length);
      return true;
    }

    @Override
    protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
      if (!RawHeaders.writeIfRaw(headers, buf)) {
        super.encodeHeaders(headers, buf);
      }
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        lastBodiless = super.isContentAlwaysEmpty(msg);
        return lastBodiless;
      }
      HttpMethod method = methods.poll();
      lastBodiless = HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
      return lastBodiless;
    }
  }
}
