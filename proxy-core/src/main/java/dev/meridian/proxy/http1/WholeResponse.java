package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A backend's response whose head and whole Content-Length body arrived in one read: the
 * {@link RawResponse} head and a slice of the buffer that holds the body, handed on as one message.
 * The proxy then relays it with one write, and the client-facing codec hands the head's buffer and
 * the body's slice on together (rather than a head, a body part and an end, each through the
 * pipeline on its own).
 *
 * <p>The head's mutators change the {@link RawResponse} itself; the body is this message's one
 * reference-counted part.
 */
public final class WholeResponse extends WholeMessage implements FullHttpResponse {
  private final RawResponse head;
  private final ByteBuf content;

  WholeResponse(RawResponse head, ByteBuf content) {
    super(head);
    this.head = head;
    this.content = content;
  }

  /** The response head as it arrived. */
  public RawResponse head() {
    return head;
  }

  @Override
  public ByteBuf content() {
    return content;
  }

  @Override
  public HttpResponseStatus status() {
    return head.status();
  }

  @Override
  @Deprecated
  public HttpResponseStatus getStatus() {
    return head.status();
  }

  @Override
  public WholeResponse setStatus(HttpResponseStatus status) {
    head.setStatus(status);
    return this;
  }

  @Override
  public WholeResponse setProtocolVersion(HttpVersion version) {
    super.setProtocolVersion(version);
    return this;
  }

  @Override
  public WholeResponse copy() {
    return replace(content.copy());
  }

  @Override
  public WholeResponse duplicate() {
    return replace(content.duplicate());
  }

  @Override
  public WholeResponse retainedDuplicate() {
    return replace(content.retainedDuplicate());
  }

  /** The same head (shared, not copied) with another body. */
  @Override
  public WholeResponse replace(ByteBuf newContent) {
    return new WholeResponse(head, newContent);
  }

  @Override
  public int refCnt() {
    return content.refCnt();
  }

  @Override
  public WholeResponse retain() {
    content.retain();
    return this;
  }

  @Override
  public WholeResponse retain(int increment) {
    content.retain(increment);
    return this;
  }

  @Override
  public WholeResponse touch() {
    content.touch();
    return this;
  }

  @Override
  public WholeResponse touch(Object hint) {
    content.touch(hint);
    return this;
  }

  @Override
  public boolean release() {
    return content.release();
  }

  @Override
  public boolean release(int decrement) {
    return content.release(decrement);
  }

  @Override
  public String toString() {
    return head + " (whole, " + content.readableBytes() + " bytes)";
  }
}
