package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.proxy.upstream.BackendSlots;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phase 2's wait for a full backend ({@code backend-groups.NAME.limits}): an exchange takes a slot of
 * its chosen backend before it takes a connection; a full backend is passed over for another with
 * room, else the exchange waits in the group's bounded queue and is sent when a slot comes free, or
 * is answered 503 with {@code Retry-After} when the queue is full or its wait runs out.
 */
final class BackendSlotWait {
  private static final Logger log = LoggerFactory.getLogger(BackendSlotWait.class);

  private final FrontendHandler connection;
  private final ProxyContext context;
  private final UpstreamAttempts attempts;

  BackendSlotWait(FrontendHandler connection, UpstreamAttempts attempts) {
    this.connection = connection;
    this.context = connection.context;
    this.attempts = attempts;
  }

  /**
   * Takes a slot of the chosen backend, its group limiting requests per backend: a full backend is
   * passed over for another the selector allows (not for a sticky session's); when every one is full,
   * the request waits for the first choice's next free slot, up to the group's queue timeout, or is
   * answered 503 when the group's queue is full. Returns the backend to send to now, or null.
   */
  Backend takeSlot(Exchange ex, Backend first) {
    BackendSlots slots = ex.group.slots();
    BackendSlots.Slot slot = slots.of(first.id());
    if (slot.tryTake()) {
      ex.slot = slot;
      return first;
    }
    if (ex.selection.pinned() == null) {
      int exclusions = ex.selection.excludedCount();
      Backend other = first;
      do {
        ex.selection.exclude(other);
        other = ex.group.selectorFor(ex.selection.isWrite()).select(ex.selection);
      } while (other != null && !(slot = slots.of(other.id())).tryTake());
      ex.selection.forgetExclusionsAfter(exclusions); // full is not failed: a retry may go there
      if (other != null) {
        context.metrics.backendLimits().outcome(ex.group.group().name(), "spilled");
        ex.slot = slot;
        return other;
      }
      slot = slots.of(first.id());
    }
    waitForSlot(ex, first, slot);
    return null;
  }

  private void waitForSlot(Exchange ex, Backend backend, BackendSlots.Slot slot) {
    String group = ex.group.group().name();
    BackendSlots.Ticket ticket = slot.enqueue(connection.client.eventLoop(), ex.group.queueTimeoutNanos(),
        () -> onSlotGranted(ex, backend, slot), () -> onQueueTimeout(ex, backend));
    if (ticket == null) {
      context.metrics.backendLimits().outcome(group, "queue-full");
      log.warn("{} {}: backend {} at limits.max-connections ({}) and group {}'s queue full; 503", ex.requestId,
          connection.clientIp, backend, ex.group.slots().maxPerBackend(), group);
      connection.completion.respondLocally(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, "backend " + backend.id()
          + " is at its connection limit and the queue for it is full; try again later", 1);
      return;
    }
    ex.slotTicket = ticket;
  }

  private void onSlotGranted(Exchange ex, Backend backend, BackendSlots.Slot slot) {
    if (connection.exchange != ex || connection.closing || ex.slotTicket == null) {
      slot.release(); // the request ended while the grant was on its way
      return;
    }
    ex.slotTicket = null;
    if (connection.responseTimer.answerIfDeadlinePassed(ex)) {
      slot.release(); // the slot came free as the deadline passed, before its timer fired: not sent
      return;
    }
    ex.slot = slot;
    context.metrics.backendLimits().outcome(ex.group.group().name(), "waited");
    attempts.sendTo(ex, backend);
  }

  private void onQueueTimeout(Exchange ex, Backend backend) {
    if (connection.exchange != ex || connection.closing || ex.slotTicket == null) {
      return;
    }
    ex.slotTicket = null;
    long waited = TimeUnit.NANOSECONDS.toMillis(ex.group.queueTimeoutNanos());
    context.metrics.backendLimits().outcome(ex.group.group().name(), "queue-timeout");
    String line = context.failureLog.admittedLine(backend, "queue-timeout");
    if (line != null) { // at most a line a second per backend
      log.warn("{} {}: no connection to backend {} came free within {} ms (limits.queue-timeout); 503{}",
          ex.requestId, connection.clientIp, backend, waited, line);
    }
    connection.completion.respondLocally(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, "backend " + backend.id()
        + " is at its connection limit; no connection came free within " + waited + " ms; try again later", 1);
  }
}
