package dev.meridian.proxy.forwarding;

import dev.meridian.proxy.http1.ServerHttpCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The HTTP/1.1 requests in the bytes a backend received, as a strict decoder reads them: Meridian's
 * own ({@link ServerHttpCodec}) or Netty's ({@link HttpRequestDecoder} with its strict options). The
 * bytes are read as they are, without the end of the connection, so a request cut short is simply
 * not among the complete ones.
 */
final class Http1Transcript {
  private Http1Transcript() {}

  /** One complete request: start line, fields (names lower-cased) in order, body, trailer fields. */
  record Request(String method, String target, String version, List<String> fields, String body,
      List<String> trailers) {
    /** The values of the fields named {@code name} (lower case), in order. */
    List<String> values(String name) {
      String prefix = name + ": ";
      return fields.stream().filter(f -> f.startsWith(prefix)).map(f -> f.substring(prefix.length())).toList();
    }
  }

  /** The complete requests read, in order, and why reading stopped early (null: it did not). */
  record Reading(List<Request> requests, String failure) {}

  /** Meridian's decoder with room for any head the proxy may write (its own limits plus what it adds). */
  static ChannelHandler meridian() {
    return new ServerHttpCodec(64 * 1024, 256 * 1024, 1024);
  }

  /** Netty's decoder, as strict as it can be made. */
  static ChannelHandler netty() {
    return new HttpRequestDecoder(new HttpDecoderConfig()
        .setMaxInitialLineLength(64 * 1024)
        .setMaxHeaderSize(256 * 1024)
        .setStrictLineParsing(true)
        .setUseRfc9112TransferEncoding(true)
        .setAllowDuplicateContentLengths(false)
        .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(true))
        .setTrailersFactory(DefaultHttpHeadersFactory.trailersFactory().withValidation(true)));
  }

  /** Reads {@code bytes} with a fresh {@code decoder}; every buffer is released before this returns. */
  static Reading read(byte[] bytes, ChannelHandler decoder) {
    EmbeddedChannel channel = new EmbeddedChannel(decoder);
    List<Object> out = new ArrayList<>();
    try {
      channel.writeInbound(Unpooled.wrappedBuffer(bytes));
      for (Object msg; (msg = channel.readInbound()) != null; ) {
        out.add(msg);
      }
      return describe(out);
    } finally {
      out.forEach(ReferenceCountUtil::release);
      channel.finishAndReleaseAll();
    }
  }

  private static Reading describe(List<Object> messages) {
    List<Request> requests = new ArrayList<>();
    HttpRequest head = null;
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (Object msg : messages) {
      if (!(msg instanceof HttpObject object)) {
        return new Reading(requests, "not an HTTP message: " + msg.getClass().getSimpleName());
      }
      if (object.decoderResult().isFailure()) {
        return new Reading(requests, String.valueOf(object.decoderResult().cause()));
      }
      if (msg instanceof HttpRequest request) {
        head = request;
        body.reset();
      }
      if (msg instanceof HttpContent content) {
        ByteBuf data = content.content();
        byte[] copy = new byte[data.readableBytes()];
        data.getBytes(data.readerIndex(), copy);
        body.writeBytes(copy);
      }
      if (msg instanceof LastHttpContent last && head != null) {
        requests.add(new Request(head.method().name(), head.uri(), head.protocolVersion().text(),
            fields(head.headers()), body.toString(StandardCharsets.ISO_8859_1), fields(last.trailingHeaders())));
        head = null;
      }
    }
    return new Reading(requests, null);
  }

  private static List<String> fields(Iterable<Map.Entry<String, String>> headers) {
    List<String> fields = new ArrayList<>();
    for (Map.Entry<String, String> field : headers) {
      fields.add(field.getKey().toLowerCase(Locale.ROOT) + ": " + field.getValue());
    }
    return fields;
  }
}
