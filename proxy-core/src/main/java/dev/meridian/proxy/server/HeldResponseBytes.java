package dev.meridian.proxy.server;

import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.StreamByteDistributor;

/**
 * Counts the response bytes an HTTP/2 client connection holds back for its client, and says when
 * they reach the connection's budget ({@code limits.http2-connection-buffer}). Bytes are held back
 * while a stream's flow-control window is closed or the connection's socket is full; Netty's flow
 * controller bounds them by the client's connection window only, which the client sets (a client
 * that opens that window wide and keeps every stream window at 0 could make each of its 100 streams
 * hold a backend read, megabytes per connection). Over budget, {@link Http2Streams} reports every
 * stream unwritable, so the relays stop reading their backends until the client takes some bytes
 * (a response not yet begun is still read once, for its head: see
 * {@code FrontendHandler.clientWritabilityChanged}).
 *
 * <p>It sits between the flow controller and the {@link StreamByteDistributor} that shares the
 * connection's window among its streams, which hears of every change to a stream's queued bytes;
 * each stream's last count is kept on the stream (a property, made when it first queues bytes).
 * Once the budget is reached the connection stays "full" until half of it has left, as a channel's
 * write-buffer watermarks do: a client reading slowly at the budget would otherwise flip it at
 * every frame, and every flip tells every open stream.
 * Used on the connection's event loop only.
 */
final class HeldResponseBytes implements StreamByteDistributor {
  private final StreamByteDistributor distributor;
  private final Http2Connection.PropertyKey lastCountKey;
  private final long budget;
  private long held;
  /** The budget was reached and half of it has not left yet. */
  private boolean full;
  /** Runs when the connection becomes full, and when it stops being full. */
  private Runnable budgetCrossed;

  /** One stream's bytes as last counted. */
  private static final class Count {
    long bytes;
  }

  /**
   * @param connection  the client connection whose streams are counted
   * @param distributor shares the connection's window among its streams
   * @param budget      bytes the connection may hold back before its streams are reported unwritable
   */
  HeldResponseBytes(Http2Connection connection, StreamByteDistributor distributor, long budget) {
    this.distributor = distributor;
    this.lastCountKey = connection.newKey();
    this.budget = budget;
  }

  /**
   * Sets what runs when the held bytes reach the budget and when they fall back under half of it;
   * it runs inside the flow controller's work, so it should only arrange for what follows.
   */
  void onBudgetCrossed(Runnable task) {
    this.budgetCrossed = task;
  }

  /** Counts the bytes the distributor hands to the writer: the response bytes sent on the connection. */
  private final CountingWriter counting = new CountingWriter();

  /** Response bytes sent on the connection so far (DATA payloads given to the frame writer). */
  long sentBytes() {
    return counting.sent;
  }

  /** Writes of response bytes on the connection so far (each one DATA frame or more). */
  long sentWrites() {
    return counting.writes;
  }

  /** Response bytes the connection holds back now. */
  long bytes() {
    return held;
  }

  /** Whether the connection may hold back more: not full (see the class's description). */
  boolean underBudget() {
    return !full;
  }

  @Override
  public void updateStreamableBytes(StreamState state) {
    distributor.updateStreamableBytes(state);
    long pending = state.pendingBytes();
    Http2Stream stream = state.stream();
    Count last = stream.getProperty(lastCountKey);
    if (last == null) {
      if (pending == 0) {
        return;
      }
      last = new Count();
      stream.setProperty(lastCountKey, last);
    }
    long change = pending - last.bytes;
    if (change == 0) {
      return;
    }
    last.bytes = pending;
    held += change;
    if (full ? held < budget / 2 : held >= budget) {
      full = !full;
      if (budgetCrossed != null) {
        budgetCrossed.run();
      }
    }
  }

  @Override
  public void updateDependencyTree(int childStreamId, int parentStreamId, short weight, boolean exclusive) {
    distributor.updateDependencyTree(childStreamId, parentStreamId, weight, exclusive);
  }

  @Override
  public boolean distribute(int maxBytes, Writer writer) throws Http2Exception {
    counting.delegate = writer;
    return distributor.distribute(maxBytes, counting);
  }

  /** Passes each write on and adds up its bytes (one per connection, reused for every distribution). */
  private static final class CountingWriter implements Writer {
    Writer delegate;
    long sent;
    long writes;

    @Override
    public void write(Http2Stream stream, int numBytes) {
      sent += numBytes;
      writes++;
      delegate.write(stream, numBytes);
    }
  }
}
