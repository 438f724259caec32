package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A client's request without a body, head and end together: the {@link RawRequest} as it arrived,
 * written upstream as one message, so the backend-facing encoder makes one buffer and one write of
 * it (rather than the head, then an empty end through the pipeline on its own).
 *
 * <p>The mutators change the {@link RawRequest} itself; there is no body to count references of.
 */
public final class WholeRequest extends WholeMessage implements FullHttpRequest {
  private final RawRequest head;

  /** Wraps a request head whose request has no body (no Content-Length above 0, not chunked). */
  public WholeRequest(RawRequest head) {
    super(head);
    this.head = head;
  }

  /** The request head as it arrived. */
  public RawRequest head() {
    return head;
  }

  @Override
  public ByteBuf content() {
    return Unpooled.EMPTY_BUFFER;
  }

  @Override
  public HttpMethod method() {
    return head.method();
  }

  @Override
  @Deprecated
  public HttpMethod getMethod() {
    return head.method();
  }

  @Override
  public WholeRequest setMethod(HttpMethod method) {
    head.setMethod(method);
    return this;
  }

  @Override
  public String uri() {
    return head.uri();
  }

  @Override
  @Deprecated
  public String getUri() {
    return head.uri();
  }

  @Override
  public WholeRequest setUri(String uri) {
    head.setUri(uri);
    return this;
  }

  @Override
  public WholeRequest setProtocolVersion(HttpVersion version) {
    super.setProtocolVersion(version);
    return this;
  }

  @Override
  public WholeRequest copy() {
    return this;
  }

  @Override
  public WholeRequest duplicate() {
    return this;
  }

  @Override
  public WholeRequest retainedDuplicate() {
    return this;
  }

  /** Only an empty body fits a request that has none: this request itself. */
  @Override
  public WholeRequest replace(ByteBuf content) {
    if (content.isReadable()) {
      throw new IllegalArgumentException("a request without a body gets none");
    }
    return this;
  }

  @Override
  public int refCnt() {
    return 1;
  }

  @Override
  public WholeRequest retain() {
    return this;
  }

  @Override
  public WholeRequest retain(int increment) {
    return this;
  }

  @Override
  public WholeRequest touch() {
    return this;
  }

  @Override
  public WholeRequest touch(Object hint) {
    return this;
  }

  @Override
  public boolean release() {
    return false;
  }

  @Override
  public boolean release(int decrement) {
    return false;
  }

  @Override
  public String toString() {
    return head + " (whole)";
  }
}
