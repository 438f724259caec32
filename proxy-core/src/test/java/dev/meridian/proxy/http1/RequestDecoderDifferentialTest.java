package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Meridian's in-place request decoder against Netty's strict decoder on valid input: thousands of
 * generated requests (methods, targets, fields with odd spacing and case, Content-Length and chunked
 * bodies with extensions and trailers, pipelined, split into random reads) must decode to the same
 * method, target, version, fields, body and trailers in both.
 */
class RequestDecoderDifferentialTest {
  private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH",
      "PROPFIND", "X-Custom"};
  private static final String[] NAMES = {"Accept", "user-agent", "X-Request-Id", "Cookie", "X-Forwarded-For",
      "Connection", "Accept-Encoding", "If-None-Match", "x-a", "X-Trace_Id", "Authorization", "Via"};
  private static final String PATH_CHARS =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%/";
  private static final String VALUE_CHARS =
      " !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~\t\u00e9\u00ff\u0080";

  private static HttpRequestDecoder nettyStrictDecoder() {
    return new HttpRequestDecoder(new HttpDecoderConfig()
        .setMaxInitialLineLength(8192)
        .setMaxHeaderSize(32768)
        .setMaxChunkSize(64 * 1024)
        .setStrictLineParsing(true)
        .setUseRfc9112TransferEncoding(true)
        .setAllowDuplicateContentLengths(false)
        .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(true))
        .setTrailersFactory(DefaultHttpHeadersFactory.trailersFactory().withValidation(true)));
  }

  @Test
  void decodesValidRequestsExactlyAsNettysStrictDecoder() {
    Random random = new Random(20261203);
    for (int round = 0; round < 800; round++) {
      byte[] input = requests(random, 1 + random.nextInt(3));
      int[] splits = splits(random, input.length);
      Http1Messages ours = Http1Messages.decode(new ServerHttpCodec(8192, 32768, 100), input, splits);
      Http1Messages netty = Http1Messages.decode(nettyStrictDecoder(), input, new int[0]);
      assertThat(netty.failed()).as("Netty's decoder refused a generated request (%s):%n%s", netty.failure(),
          new String(input, StandardCharsets.ISO_8859_1)).isFalse();
      assertThat(ours).as("input:%n%s", new String(input, StandardCharsets.ISO_8859_1)).isEqualTo(netty);
    }
  }

  private static int[] splits(Random random, int length) {
    return switch (random.nextInt(4)) {
      case 0 -> new int[0];
      case 1 -> new int[] {1};
      default -> new int[] {1 + random.nextInt(Math.max(1, length / 2)), 1 + random.nextInt(7)};
    };
  }

  private static byte[] requests(Random random, int count) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < count; i++) {
      write(out, request(random));
    }
    return out.toByteArray();
  }

  private static String request(Random random) {
    StringBuilder head = new StringBuilder();
    String method = METHODS[random.nextInt(METHODS.length)];
    boolean http10 = random.nextInt(5) == 0;
    head.append(method).append(' ').append(target(random, method)).append(' ')
        .append(http10 ? "HTTP/1.0" : "HTTP/1.1").append("\r\n");
    if (random.nextInt(4) != 0) {
      head.append(random.nextBoolean() ? "Host" : "host").append(':').append(ows(random))
          .append("example.com").append(random.nextBoolean() ? ":8080" : "").append(ows(random)).append("\r\n");
    }
    int fields = random.nextInt(10);
    for (int i = 0; i < fields; i++) {
      head.append(NAMES[random.nextInt(NAMES.length)]).append(':').append(ows(random))
          .append(value(random)).append(ows(random)).append("\r\n");
    }
    String body = "";
    switch (random.nextInt(http10 ? 2 : 3)) {
      case 1 -> {
        body = Http1Messages.text(random, random.nextInt(300), PATH_CHARS + "\r\n");
        head.append("Content-Length: ").append(body.length()).append("\r\n");
      }
      case 2 -> {
        head.append("Transfer-Encoding: chunked\r\n");
        body = chunked(random);
      }
      default -> {
        if (random.nextBoolean()) {
          head.append("Content-Length: 0\r\n");
        }
      }
    }
    return head.append("\r\n").append(body).toString();
  }

  private static String target(Random random, String method) {
    if (method.equals("OPTIONS") && random.nextInt(4) == 0) {
      return "*";
    }
    String path = "/" + Http1Messages.text(random, random.nextInt(40), PATH_CHARS);
    if (random.nextInt(3) == 0) {
      path += "?" + Http1Messages.text(random, random.nextInt(30), PATH_CHARS + "?");
    }
    return random.nextInt(8) == 0 ? "http://example.com" + path : path;
  }

  private static String value(Random random) {
    String value = Http1Messages.text(random, random.nextInt(40), VALUE_CHARS);
    return value.strip().replace("\t", "");
  }

  private static String ows(Random random) {
    return switch (random.nextInt(5)) {
      case 0 -> "";
      case 1 -> "  ";
      case 2 -> "\t";
      default -> " ";
    };
  }

  private static String chunked(Random random) {
    StringBuilder body = new StringBuilder();
    int chunks = random.nextInt(4);
    for (int i = 0; i < chunks; i++) {
      String data = Http1Messages.text(random, 1 + random.nextInt(100), PATH_CHARS + "\r\n");
      body.append(Integer.toHexString(data.length()));
      if (random.nextInt(4) == 0) {
        body.append(";ext=").append(random.nextInt(100));
      }
      body.append("\r\n").append(data).append("\r\n");
    }
    body.append("0\r\n");
    if (random.nextInt(3) == 0) {
      body.append("X-Checksum: ").append(random.nextInt(1000)).append("\r\n");
    }
    return body.append("\r\n").toString();
  }
  private static void write(ByteArrayOutputStream out, String text) {
    out.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
  }
}
