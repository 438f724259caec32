package dev.meridian.bench;

import dev.meridian.proxy.http1.Http1RequestDecoder;
import dev.meridian.proxy.http1.Http1ResponseDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Measures decoding one HTTP/1.1 head in place, as a keep-alive connection does per request: a
 * curl-like and a browser-like request head through {@link Http1RequestDecoder}, and an nginx
 * response head with its small body through {@link Http1ResponseDecoder}, each fed to the decoder on
 * an {@link EmbeddedChannel} as one read (the channel's own cost is part of every figure).
 *
 * <p>Run: {@code mvn -q -pl bench -am package -DskipTests && java -jar bench/target/benchmarks.jar HeadParse}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HeadParseBenchmark {
  private static final String CURL_REQUEST = "GET /index.html HTTP/1.1\r\n"
      + "Host: 127.0.0.1:8080\r\n"
      + "User-Agent: curl/8.5.0\r\n"
      + "Accept: */*\r\n"
      + "\r\n";

  private static final String BROWSER_REQUEST = "GET /static/app.js?v=20261205 HTTP/1.1\r\n"
      + "Host: www.example.com\r\n"
      + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\n"
      + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
      + "Accept-Language: en-US,en;q=0.5\r\n"
      + "Accept-Encoding: gzip, deflate, br, zstd\r\n"
      + "Referer: https://www.example.com/index.html\r\n"
      + "Cookie: session=6f1c0e5e2b7d4c1a9f3e8d2c7b6a5f4e; theme=dark\r\n"
      + "Connection: keep-alive\r\n"
      + "If-None-Match: \"675b1d7a-264\"\r\n"
      + "\r\n";

  private static final String NGINX_RESPONSE = "HTTP/1.1 200 OK\r\n"
      + "Server: nginx/1.24.0 (Ubuntu)\r\n"
      + "Date: Sat, 05 Dec 2026 14:00:00 GMT\r\n"
      + "Content-Type: text/html\r\n"
      + "Content-Length: 612\r\n"
      + "Last-Modified: Tue, 12 Dec 2023 16:10:02 GMT\r\n"
      + "Connection: keep-alive\r\n"
      + "ETag: \"675b1d7a-264\"\r\n"
      + "Accept-Ranges: bytes\r\n"
      + "\r\n"
      + "x".repeat(612);

  private EmbeddedChannel requests;
  private EmbeddedChannel responses;
  private ByteBuf curlRequest;
  private ByteBuf browserRequest;
  private ByteBuf nginxResponse;

  /** Makes one channel per side and the heads' bytes, in direct buffers as sockets deliver them. */
  @Setup
  public void setUp() {
    requests = new EmbeddedChannel(new Http1RequestDecoder(8192, 32768, 100, method -> { }));
    responses = new EmbeddedChannel(new Http1ResponseDecoder(8192, 32768, 100, () -> HttpMethod.GET));
    curlRequest = direct(CURL_REQUEST);
    browserRequest = direct(BROWSER_REQUEST);
    nginxResponse = direct(NGINX_RESPONSE);
  }

  private static ByteBuf direct(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    return Unpooled.directBuffer(bytes.length).writeBytes(bytes);
  }

  /** Releases the buffers and closes the channels. */
  @TearDown
  public void tearDown() {
    curlRequest.release();
    browserRequest.release();
    nginxResponse.release();
    requests.finishAndReleaseAll();
    responses.finishAndReleaseAll();
  }

  @Benchmark
  public int curlRequestHead() {
    return decode(requests, curlRequest);
  }

  @Benchmark
  public int browserRequestHead() {
    return decode(requests, browserRequest);
  }

  @Benchmark
  public int nginxResponseHead() {
    return decode(responses, nginxResponse);
  }

  /** Feeds the bytes as one read and releases what comes out; returns how many messages did. */
  private static int decode(EmbeddedChannel channel, ByteBuf bytes) {
    channel.writeInbound(bytes.retainedDuplicate());
    int count = 0;
    Object message;
    while ((message = channel.readInbound()) != null) {
      ReferenceCountUtil.release(message);
      count++;
    }
    return count;
  }
}
