package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Decoded HTTP/1.1 messages reduced to what a peer would act on: the start line (method, target and
 * version, or version and status), the header fields in order, the body bytes, the trailer fields,
 * and whether decoding failed. Two decoders agree on a message when these are equal.
 */
record Http1Messages(List<String> requests, boolean failed, String failure) {

  /** Feeds the bytes to a fresh channel with the handler, in the given read sizes, and reads what comes out. */
  static Http1Messages decode(ChannelHandler decoder, byte[] bytes, int[] splits) {
    EmbeddedChannel channel = new EmbeddedChannel(decoder);
    List<Object> out = new ArrayList<>();
    try {
      int from = 0;
      for (int i = 0; from < bytes.length; i++) {
        int size = splits.length == 0 ? bytes.length : Math.max(1, splits[i % splits.length]);
        int to = Math.min(bytes.length, from + size);
        channel.writeInbound(Unpooled.wrappedBuffer(bytes, from, to - from));
        from = to;
        Object msg;
        while ((msg = channel.readInbound()) != null) {
          out.add(msg);
        }
      }
      // The peer closes: a body delimited by the close ends here.
      channel.finish();
      Object msg;
      while ((msg = channel.readInbound()) != null) {
        out.add(msg);
      }
      return describe(out);
    } finally {
      out.forEach(ReferenceCountUtil::release);
      channel.finishAndReleaseAll();
    }
  }

  /** One line per request: the head, each field, the body, the trailers; stops at a failure. */
  static Http1Messages describe(List<Object> messages) {
    List<String> requests = new ArrayList<>();
    StringBuilder current = null;
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (Object msg : messages) {
      if (msg instanceof ByteBuf raw) {
        // After a 101 the connection carries another protocol: its bytes, as they are.
        String bytes = raw.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
        int last = requests.size() - 1;
        if (last >= 0 && requests.get(last).startsWith("raw: ")) {
          requests.set(last, requests.get(last) + bytes);
        } else {
          requests.add("raw: " + bytes);
        }
        continue;
      }
      if (((HttpObject) msg).decoderResult().isFailure()) {
        return new Http1Messages(requests, true, String.valueOf(((HttpObject) msg).decoderResult().cause()));
      }
      if (msg instanceof HttpMessage message) {
        current = new StringBuilder();
        if (message instanceof HttpRequest request) {
          current.append(request.method()).append(' ').append(request.uri()).append(' ')
              .append(request.protocolVersion());
        } else {
          HttpResponse response = (HttpResponse) message;
          current.append(response.protocolVersion()).append(' ').append(response.status());
        }
        for (Map.Entry<String, String> field : message.headers()) {
          current.append("\n").append(field.getKey().toLowerCase()).append(": ").append(field.getValue());
        }
        body.reset();
      }
      if (msg instanceof HttpContent content) {
        ByteBuf data = content.content();
        byte[] copy = new byte[data.readableBytes()];
        data.getBytes(data.readerIndex(), copy);
        body.writeBytes(copy);
      }
      if (msg instanceof LastHttpContent last && current != null) {
        current.append("\nbody: ").append(body.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
        for (Map.Entry<String, String> field : last.trailingHeaders()) {
          current.append("\ntrailer ").append(field.getKey().toLowerCase()).append(": ").append(field.getValue());
        }
        requests.add(current.toString());
        current = null;
      }
    }
    return new Http1Messages(requests, false, null);
  }

  /** Random text of the given length from the alphabet (for generated messages). */
  static String text(java.util.Random random, int length, String alphabet) {
    StringBuilder text = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      text.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return text.toString();
  }
}
