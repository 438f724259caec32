package dev.meridian.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Decodes HTTP/1.1 requests like Netty's decoder, and first checks each request head for what Netty
 * tolerates but a proxy must refuse: obs-fold continuation lines, whitespace between a field name and
 * its colon, and more header fields than the configured limit.
 *
 * <p>Netty consumes a head line by line and never consumes a partial line, so every call that starts
 * inside a head starts at a line boundary; the scanner therefore reads each complete line exactly once
 * and stops at the empty line that ends the head. After a violation the request is emitted as a failed
 * message and the rest of the connection's input is discarded: nothing of it may reach a backend.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
  private enum Phase { REQUEST_LINE, HEADERS, BODY, DISCARD }

  private static final String TOO_MANY_HEADERS = "too many header fields";

  private final int maxHeaderCount;
  private final MethodQueue methods;
  private Phase phase = Phase.REQUEST_LINE;
  private int headerCount;
  private int hostCount;
  private boolean partialHead;
  private long headStartNanos;

  StrictRequestDecoder(HttpDecoderConfig config, int maxHeaderCount, MethodQueue methods) {
    super(config);
    this.maxHeaderCount = maxHeaderCount;
    this.methods = methods;
  }

  /** Whether bytes of a request head have arrived whose head is not complete yet. */
  boolean hasPartialHead() {
    return partialHead || (phase == Phase.REQUEST_LINE && internalBuffer().isReadable())
        || phase == Phase.HEADERS;
  }

  /** When the first byte of the head now being received arrived (System.nanoTime), or 0 when none is. */
  long partialHeadSinceNanos() {
    return phase == Phase.REQUEST_LINE || phase == Phase.HEADERS ? headStartNanos : 0;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
    if (phase == Phase.DISCARD) {
      buffer.skipBytes(buffer.readableBytes());
      return;
    }
    if (phase == Phase.REQUEST_LINE && headStartNanos == 0 && buffer.isReadable()) {
      headStartNanos = System.nanoTime();
    }
    if (phase != Phase.BODY) {
      String violation = scanHead(buffer);
      if (violation != null) {
        reject(buffer, out, violation);
        return;
      }
    }
    int before = out.size();
    super.decode(ctx, buffer, out);
    for (int i = before; i < out.size(); i++) {
      Object decoded = out.get(i);
      if (decoded instanceof HttpRequest request) {
        methods.add(request.method());
      }
      if (((HttpObject) decoded).decoderResult().isFailure()) {
        phase = Phase.DISCARD;
      } else if (decoded instanceof LastHttpContent && phase != Phase.DISCARD) {
        phase = Phase.REQUEST_LINE;
        headerCount = 0;
        hostCount = 0;
        partialHead = false;
        headStartNanos = 0;
      }
    }
  }

  /** Reads the complete lines of the head in the buffer; returns a violation or null. */
  private String scanHead(ByteBuf buffer) {
    int index = buffer.readerIndex();
    int end = buffer.writerIndex();
    while (index < end && phase != Phase.BODY) {
      int lf = buffer.indexOf(index, end, (byte) '\n');
      if (lf < 0) {
        if (index < end) {
          partialHead = true;
        }
        return null;
      }
      int lineEnd = lf > index && buffer.getByte(lf - 1) == '\r' ? lf - 1 : lf;
      boolean empty = lineEnd == index;
      if (phase == Phase.REQUEST_LINE) {
        if (!empty) {
          phase = Phase.HEADERS;
          partialHead = true;
        }
      } else if (empty) {
        phase = Phase.BODY;
        headStartNanos = 0;
      } else {
        byte first = buffer.getByte(index);
        if (first == ' ' || first == '\t') {
          return "obs-fold (a header line starting with whitespace) is not accepted";
        }
        int colon = buffer.indexOf(index, lineEnd, (byte) ':');
        if (colon > index) {
          byte beforeColon = buffer.getByte(colon - 1);
          if (beforeColon == ' ' || beforeColon == '\t') {
            return "whitespace between a header name and its colon";
          }
          if (colon - index == 4 && isHost(buffer, index) && ++hostCount > 1) {
            return "more than one Host header";
          }
        }
        if (++headerCount > maxHeaderCount) {
          return TOO_MANY_HEADERS;
        }
      }
      index = lf + 1;
    }
    return null;
  }

  private static boolean isHost(ByteBuf buffer, int index) {
    return (buffer.getByte(index) | 0x20) == 'h' && (buffer.getByte(index + 1) | 0x20) == 'o'
        && (buffer.getByte(index + 2) | 0x20) == 's' && (buffer.getByte(index + 3) | 0x20) == 't';
  }

  private void reject(ByteBuf buffer, List<Object> out, String violation) {
    buffer.skipBytes(buffer.readableBytes());
    phase = Phase.DISCARD;
    DefaultFullHttpRequest failed =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request");
    Exception cause = TOO_MANY_HEADERS.equals(violation)
        ? new TooManyHeadersException(maxHeaderCount)
        : new MalformedHeadException(violation);
    failed.setDecoderResult(DecoderResult.failure(cause));
    methods.add(failed.method());
    out.add(failed);
  }
}
