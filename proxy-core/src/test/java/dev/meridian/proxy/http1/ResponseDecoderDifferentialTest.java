package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Meridian's in-place response decoder against Netty's on valid responses: generated heads (standard
 * and custom reasons, odd field spacing), each framing RFC 9112 allows (Content-Length, chunked with
 * extensions and trailers, a transfer coding before chunked, until close, 1xx then final, 204, 304),
 * several on one connection, split into random reads: both must read the same status, fields, body
 * and trailers. Plus the cases Netty cannot judge: HEAD responses and malformed bodies.
 */
class ResponseDecoderDifferentialTest {
  private static final String[] NAMES = {"Content-Type", "cache-control", "ETag", "Set-Cookie", "Vary",
      "X-Backend", "Date", "Server", "Via", "Connection"};
  private static final String VALUE_CHARS =
      " !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~\t\u00e9";
  private static final String BODY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789 \r\n";

  private static Http1ResponseDecoder ours() {
    return new Http1ResponseDecoder(8192, 32768, 256, () -> HttpMethod.GET);
  }

  @Test
  void decodesValidResponsesExactlyAsNettysDecoder() {
    Random random = new Random(31337);
    for (int round = 0; round < 800; round++) {
      StringBuilder input = new StringBuilder();
      int count = 1 + random.nextInt(3);
      for (int i = 0; i < count; i++) {
        boolean last = i == count - 1;
        input.append(response(random, last));
      }
      byte[] bytes = input.toString().getBytes(StandardCharsets.ISO_8859_1);
      int[] splits = random.nextBoolean() ? new int[0] : new int[] {1 + random.nextInt(40), 1 + random.nextInt(5)};
      Http1Messages mine = Http1Messages.decode(ours(), bytes, splits);
      Http1Messages netty = Http1Messages.decode(new HttpResponseDecoder(new HttpDecoderConfig()
          .setValidateHeaders(true).setAllowDuplicateContentLengths(false)), bytes, new int[0]);
      assertThat(netty.failed()).as("Netty refused (%s):%n%s", netty.failure(), input).isFalse();
      assertThat(mine).as("input:%n%s", input).isEqualTo(netty);
    }
  }

  private static String response(Random random, boolean lastOnConnection) {
    StringBuilder head = new StringBuilder();
    if (random.nextInt(6) == 0) {
      head.append(random.nextBoolean() ? "HTTP/1.1 100 Continue\r\n\r\n" : "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n");
    }
    int kind = random.nextInt(lastOnConnection ? 6 : 5);
    int status = kind == 3 ? (random.nextBoolean() ? 204 : 304) : new int[] {200, 201, 404, 500, 302}[random.nextInt(5)];
    boolean http10 = (kind == 0 || kind >= 3) && random.nextInt(6) == 0;
    head.append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(status);
    switch (random.nextInt(4)) {
      case 0 -> head.append(" Custom Reason");
      case 1 -> head.append(' ');
      default -> head.append(' ').append(io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase());
    }
    head.append("\r\n");
    int fields = random.nextInt(8);
    for (int i = 0; i < fields; i++) {
      head.append(NAMES[random.nextInt(NAMES.length)]).append(':').append(random.nextBoolean() ? " " : "")
          .append(Http1Messages.text(random, random.nextInt(30), VALUE_CHARS).strip()).append(random.nextBoolean() ? "\t" : "")
          .append("\r\n");
    }
    String body = Http1Messages.text(random, random.nextInt(200), BODY_CHARS);
    switch (kind) {
      case 0, 3 -> head.append("Content-Length: ").append(kind == 3 ? 0 : body.length()).append("\r\n\r\n")
          .append(kind == 3 ? "" : body);
      case 1 -> head.append("Transfer-Encoding: chunked\r\n\r\n").append(chunked(random, body));
      // Another coding before chunked is refused (MalformedUpstreamResponseTest); case does not matter.
      case 2 -> head.append("Transfer-Encoding: Chunked\r\n\r\n").append(chunked(random, body));
      case 4 -> head.append("Content-Length: 0\r\n\r\n");
      default -> head.append("\r\n").append(body); // until the backend closes
    }
    return head.toString();
  }

  private static String chunked(Random random, String body) {
    StringBuilder out = new StringBuilder();
    int at = 0;
    while (at < body.length()) {
      int size = Math.min(body.length() - at, 1 + random.nextInt(50));
      out.append(Integer.toHexString(size)).append(random.nextInt(4) == 0 ? ";name=\"v;x\"" : "").append("\r\n")
          .append(body, at, at + size).append("\r\n");
      at += size;
    }
    out.append("0\r\n");
    if (random.nextInt(3) == 0) {
      out.append("Grpc-Status: 0\r\n");
    }
    return out.append("\r\n").toString();
  }

  @Test
  void responseToHeadHasNoBodyAndTheNextResponseFollows() {
    Http1ResponseDecoder decoder = new Http1ResponseDecoder(8192, 32768, 256,
        new java.util.ArrayDeque<>(List.of(HttpMethod.HEAD, HttpMethod.GET))::poll);
    Http1Messages read = Http1Messages.decode(decoder, ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").getBytes(StandardCharsets.US_ASCII), new int[] {7});
    assertThat(read.failed()).isFalse();
    assertThat(read.requests()).containsExactly("HTTP/1.1 200 OK\ncontent-length: 5\nbody: ",
        "HTTP/1.1 200 OK\ncontent-length: 2\nbody: ok");
  }

  @Test
  void malformedChunkEndsTheBodyWithAFailureNotACompleteResponse() {
    EmbeddedChannel channel = new EmbeddedChannel(ours());
    channel.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5\r\nhello\r\nzz\r\nmore", StandardCharsets.US_ASCII));
    List<Object> out = new ArrayList<>();
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      out.add(msg);
    }
    try {
      Object last = out.get(out.size() - 1);
      assertThat(last).isInstanceOf(LastHttpContent.class);
      assertThat(((HttpContent) last).decoderResult().isFailure()).isTrue();
    } finally {
      out.forEach(ReferenceCountUtil::release);
      channel.finishAndReleaseAll();
    }
  }

  /** A trailer section's field lines are bounded as a head's are: 256 pass, one more ends the body as failed. */
  @Test
  void aTrailerSectionWithTooManyFieldsEndsTheBodyWithAFailure() {
    for (int fields : new int[] {Http1MessageDecoder.MAX_TRAILER_FIELDS, Http1MessageDecoder.MAX_TRAILER_FIELDS + 1}) {
      EmbeddedChannel channel = new EmbeddedChannel(ours());
      channel.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n0\r\n" + "X-T: 1\r\n".repeat(fields) + "\r\n", StandardCharsets.US_ASCII));
      List<Object> out = new ArrayList<>();
      Object msg;
      while ((msg = channel.readInbound()) != null) {
        out.add(msg);
      }
      try {
        LastHttpContent last = (LastHttpContent) out.get(out.size() - 1);
        assertThat(last.decoderResult().isFailure()).as("%d fields", fields)
            .isEqualTo(fields > Http1MessageDecoder.MAX_TRAILER_FIELDS);
      } finally {
        out.forEach(ReferenceCountUtil::release);
        channel.finishAndReleaseAll();
      }
    }
  }

  @Test
  void bytesAfterSwitchingProtocolsPassAsTheyAre() {
    EmbeddedChannel channel = new EmbeddedChannel(ours());
    channel.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\n\r\n\u0081\u0002hi", StandardCharsets.ISO_8859_1));
    List<Object> out = new ArrayList<>();
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      out.add(msg);
    }
    try {
      assertThat(out).hasSize(3);
      assertThat(out.get(0)).isInstanceOf(RawResponse.class);
      assertThat(out.get(1)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
      assertThat(((io.netty.buffer.ByteBuf) out.get(2)).toString(StandardCharsets.ISO_8859_1)).isEqualTo("\u0081\u0002hi");
    } finally {
      out.forEach(ReferenceCountUtil::release);
      channel.finishAndReleaseAll();
    }
  }
}
