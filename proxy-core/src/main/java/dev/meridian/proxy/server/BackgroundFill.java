package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.SelectionContext;
import dev.meridian.proxy.cache.CachedResponse;
import dev.meridian.proxy.cache.EdgeCache;
import dev.meridian.proxy.cache.MissCoalescer;
import dev.meridian.proxy.upstream.BackendLink;
import dev.meridian.proxy.upstream.ClientConnection;
import dev.meridian.proxy.upstream.ProxyHeaderWriter;
import dev.meridian.proxy.upstream.UpstreamProtocol;
import dev.meridian.tls.UpstreamTlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One GET for a key's whole answer, sent in the background on the client connection's event loop and
 * a connection of its own (closed after): stale-while-revalidate's refresh of a stale entry (which
 * answers its client meanwhile), or the fill a byte range that missed waits for (the range is then
 * cut from the entry). It goes to a backend of the route's group picked as for the client, carries
 * the client's end-to-end headers (never Cookie, Authorization, Range or the client's validators) and
 * the stale entry's validators; a 304 refreshes the entry, a storable answer is stored, anything else
 * stores nothing (an answer larger than the cache's largest object also stops collapsing the key's
 * misses, so ranges of a large file go straight to the origin rather than each fetching it whole).
 * One fetch per key at a time (the key's fill in {@link MissCoalescer}). A group that sends the PROXY
 * protocol gets the header of the client whose request started it. HTTP/1.1 groups only: for an
 * HTTP/2 group the request goes to the origin itself.
 */
final class BackgroundFill extends SimpleChannelInboundHandler<FullHttpResponse> {
  private static final Logger log = LoggerFactory.getLogger(BackgroundFill.class);

  private final EdgeCachePhase phase;
  private final EdgeCachePhase.Target target;
  private final CachedResponse stale;
  private final MissCoalescer.Fill fill;
  private final CharSequence requestId;
  private boolean done;

  private BackgroundFill(EdgeCachePhase phase, EdgeCachePhase.Target target, CachedResponse stale,
      MissCoalescer.Fill fill, CharSequence requestId) {
    this.phase = phase;
    this.target = target;
    this.stale = stale;
    this.fill = fill;
    this.requestId = requestId;
  }

  /**
   * Starts fetching the exchange's key in the background, unless a fetch or a miss's fill is already
   * on its way.
   *
   * @param stale the stale entry to refresh (its validators are sent), or null
   * @return false when the group cannot be fetched from in the background (the request then goes to
   *         the origin itself)
   */
  static boolean start(FrontendHandler connection, EdgeCachePhase phase, Exchange ex, CachedResponse stale) {
    if (ex.group.protocol() != UpstreamProtocol.HTTP1) {
      return false;
    }
    ProxyContext context = connection.context;
    EdgeCache cache = context.cache;
    MissCoalescer.Role role = cache.misses().join(ex.cache.key, cache.nanoTime());
    if (!role.leads()) {
      return true; // a refresh (or a miss's fill) is already on its way
    }
    // The exchange ends long before the refresh: what the refresh needs is copied out of it now.
    BackgroundFill refresh = new BackgroundFill(phase, EdgeCachePhase.Target.of(ex), stale, role.fill(),
        ex.requestId);
    SelectionContext selection = new SelectionContext().clientRegion(ex.selection.clientRegion());
    Backend backend = ex.group.selectorFor(false).select(selection);
    if (backend == null) {
      refresh.finish(null);
      return true;
    }
    FullHttpRequest request = request(ex, stale, backend);
    BackendLink link = ex.group.link();
    ClientConnection client = connection.upstreamClient();
    long timeoutMillis = ex.route.responseHeaders().toMillis();
    new Bootstrap()
        .group(connection.client.eventLoop())
        .channel(context.transport.socketChannel())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) ex.policies.settings.timeouts().connect().toMillis())
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            if (link.proxyProtocol().sends()) {
              ProxyHeaderWriter.install(ch.pipeline(), link.proxyProtocol(), client);
            }
            if (link.tls() != null) {
              ch.pipeline().addLast(UpstreamTlsContexts.newHandler(link.tls().context(), link.tls().settings(),
                  ch.alloc(), backend.host(), backend.port()));
            }
            ch.pipeline().addLast(new HttpClientCodec())
                .addLast(new HttpObjectAggregator(cache.maxObjectSize()))
                .addLast(new ReadTimeoutHandler(timeoutMillis, TimeUnit.MILLISECONDS))
                .addLast(refresh);
          }
        })
        .connect(backend.host(), backend.port())
        .addListener((ChannelFutureListener) f -> {
          if (f.isSuccess()) {
            f.channel().writeAndFlush(request);
          } else {
            request.release();
            refresh.finish(null);
          }
        });
    return true;
  }

  /** The refresh request: the client's end-to-end headers without credentials or its own validators. */
  private static FullHttpRequest request(Exchange ex, CachedResponse stale, Backend backend) {
    FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, ex.request.uri(),
        Unpooled.EMPTY_BUFFER);
    HttpHeaders headers = request.headers();
    for (Map.Entry<String, String> h : dev.meridian.proxy.http.HopByHopHeaders.endToEnd(ex.request.headers())) {
      String name = h.getKey();
      if (!name.regionMatches(true, 0, "if-", 0, 3) && !HttpHeaderNames.COOKIE.contentEqualsIgnoreCase(name)
          && !HttpHeaderNames.AUTHORIZATION.contentEqualsIgnoreCase(name)
          && !HttpHeaderNames.RANGE.contentEqualsIgnoreCase(name)
          && !HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
        headers.add(name, h.getValue());
      }
    }
    if (ex.route.rewriteHost() || !headers.contains(HttpHeaderNames.HOST)) {
      headers.set(HttpHeaderNames.HOST, backend.authority());
    }
    if (stale == null) {
      // A fill: nothing to revalidate.
    } else if (stale.etag() != null) {
      headers.set(HttpHeaderNames.IF_NONE_MATCH, stale.etag());
    } else if (stale.lastModified() != null) {
      headers.set(HttpHeaderNames.IF_MODIFIED_SINCE, stale.lastModified());
    }
    headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return request;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
    CachedResponse stored = null;
    if (response.decoderResult().isSuccess()) {
      int status = response.status().code();
      if (status == 304) {
        stored = stale == null ? null : OriginAnswers.refreshFrom304(phase.context(), target, stale, response.headers());
      } else {
        java.nio.ByteBuffer body = java.nio.ByteBuffer.allocateDirect(response.content().readableBytes());
        response.content().getBytes(response.content().readerIndex(), body);
        stored = OriginAnswers.storeWhole(phase.context(), target, response, body.flip());
      }
    }
    finish(stored);
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    finish(null);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("{}: background fetch of {} failed: {}", requestId, target.url(), cause.toString());
    if (cause instanceof TooLongHttpContentException) {
      OriginAnswers.tooLarge(phase.context(), target);
    }
    finish(null);
    ctx.close();
  }

  private void finish(CachedResponse stored) {
    if (!done) {
      done = true;
      fill.finish(stored);
    }
  }
}
