package dev.meridian.proxy.accesslog;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The access log's hand-off from the event loops to its writer thread: a ring of pre-allocated
 * {@link AccessLogEntry} slots (the LMAX Disruptor), claimed without blocking or allocating.
 *
 * <p>A request's end calls {@link #claim}; a non-null entry must be filled and then passed to
 * {@link #publish}, always (a claimed slot that is never published stops the writer at it). A null
 * answer means the request is not logged: sampled out, or the ring is full because the writer is
 * behind, which is counted ({@link #dropped}) and never waited for. The writer sleeps 10 ms when the
 * ring is empty, so publishing costs no wake-up signal and an idle writer wakes 100 times a second.
 *
 * <p>Thread-safe: any number of event loops claim and publish.
 */
public final class AccessLog implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AccessLog.class);
  private static final long IDLE_SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
  /** Fields whose values are credentials: naming one is warned of at start. */
  private static final Set<String> CREDENTIALS = Set.of("authorization", "proxy-authorization", "cookie", "set-cookie");

  private final Disruptor<AccessLogEntry> disruptor;
  private final RingBuffer<AccessLogEntry> ring;
  private final double sample;
  private final boolean alwaysLogErrors;
  /** access-log.query as the log started (its keys take effect at a restart only). */
  private boolean recordsQuery = true;
  private final LongAdder dropped = new LongAdder();
  private final LongAdder sampledOut = new LongAdder();
  private final Writer writer;
  private final List<String> requestHeaders;
  private final List<String> responseHeaders;

  /**
   * Starts the writer thread.
   *
   * @param output          opens where lines go: at start, and again at each {@link #reopen}; the
   *                        output open last is closed by {@link #close}
   * @param queueSize       slots in the ring, a power of two
   * @param sample          fraction of requests logged, 0 to 1
   * @param alwaysLogErrors log every 5xx and every request left without an answer, whatever {@code sample} says
   */
  AccessLog(Supplier<AccessLogOutput> output, int queueSize, double sample, boolean alwaysLogErrors) {
    this(output, queueSize, sample, alwaysLogErrors, new AccessLogLine(), List.of(), List.of());
  }

  /**
   * As {@link #AccessLog(Supplier, int, double, boolean)}, writing lines in {@code format} and
   * recording the named request and response fields (lower-case names) in each entry.
   */
  AccessLog(Supplier<AccessLogOutput> output, int queueSize, double sample, boolean alwaysLogErrors,
      LineFormat format, List<String> requestHeaders, List<String> responseHeaders) {
    this.sample = sample;
    this.alwaysLogErrors = alwaysLogErrors;
    this.requestHeaders = List.copyOf(requestHeaders);
    this.responseHeaders = List.copyOf(responseHeaders);
    this.writer = new Writer(output, format);
    int requestFields = requestHeaders.size();
    int responseFields = responseHeaders.size();
    this.disruptor = new Disruptor<>(() -> new AccessLogEntry(requestFields, responseFields), queueSize,
        new DefaultThreadFactory("meridian-access-log", true), ProducerType.MULTI,
        new SleepingWaitStrategy(0, IDLE_SLEEP_NANOS));
    disruptor.handleEventsWith(writer);
    disruptor.setDefaultExceptionHandler(new LogAndContinue());
    this.ring = disruptor.start();
  }

  /** An access log as the settings say: to standard output or to a rotated file. */
  public static AccessLog start(AccessLogSettings settings) {
    Supplier<AccessLogOutput> output = settings.file()
        .<Supplier<AccessLogOutput>>map(file -> () -> AccessLogOutput.file(file, settings.maxFileSize(),
            settings.maxFiles(), settings.compress()))
        .orElse(AccessLogOutput::stdout);
    warnOfCredentials("request-headers", settings.requestHeaders());
    warnOfCredentials("response-headers", settings.responseHeaders());
    AccessLog accessLog = new AccessLog(output, settings.queueSize(), settings.sample(), settings.alwaysLogErrors(),
        LineFormat.of(settings), settings.requestHeaders(), settings.responseHeaders());
    accessLog.recordsQuery = settings.query();
    return accessLog;
  }

  private static void warnOfCredentials(String key, List<String> names) {
    for (String name : names) {
      if (CREDENTIALS.contains(name)) {
        log.warn("access log: access-log.{} names {}: the credentials it carries will be written to the log", key, name);
      }
    }
  }

  /**
   * The request fields each line records ({@code access-log.request-headers}), lower-case: an entry's
   * {@link AccessLogEntry#requestHeaders} holds their values in this order.
   */
  public List<String> requestHeaders() {
    return requestHeaders;
  }

  /** The response fields each line records ({@code access-log.response-headers}), as {@link #requestHeaders}. */
  public List<String> responseHeaders() {
    return responseHeaders;
  }

  /** Whether lines carry the request's query ({@code access-log.query}, as the log started). */
  public boolean recordsQuery() {
    return recordsQuery;
  }

  /**
   * Closes the output and opens it again, so that lines from now on go to a new file at its path
   * (after logrotate or an operator moved the file away; the moved file gets every line before). The
   * writer thread does it, in turn with the lines waiting before it.
   */
  public void reopen() {
    long sequence;
    try {
      sequence = ring.tryNext();
    } catch (InsufficientCapacityException full) {
      writer.reopenRequested = true; // done before the next line
      return;
    }
    AccessLogEntry entry = ring.get(sequence);
    entry.sequence = sequence;
    entry.reopensOutput = true;
    ring.publish(sequence);
  }

  /**
   * A slot for the request that ended with this status, or null when it is not logged (sampled out,
   * or the ring is full). A non-null slot must be {@linkplain #publish published}.
   */
  public AccessLogEntry claim(int status) {
    if (sample < 1.0 && !(alwaysLogErrors && (status >= 500 || status == 499))
        && ThreadLocalRandom.current().nextDouble() >= sample) {
      sampledOut.increment();
      return null;
    }
    long sequence;
    try {
      sequence = ring.tryNext();
    } catch (InsufficientCapacityException full) {
      dropped.increment();
      return null;
    }
    AccessLogEntry entry = ring.get(sequence);
    entry.sequence = sequence;
    return entry;
  }

  /** Hands a filled entry to the writer. */
  public void publish(AccessLogEntry entry) {
    ring.publish(entry.sequence);
  }

  /** Lines dropped because the writer was behind (the ring was full). */
  public long dropped() {
    return dropped.sum();
  }

  /** Requests not logged because of sampling. */
  public long sampledOut() {
    return sampledOut.sum();
  }

  /** Lines written. */
  public long written() {
    return writer.written;
  }

  /** Writes every line published so far (waiting up to five seconds), then stops the writer and closes the output. */
  @Override
  public void close() {
    // Not Disruptor.shutdown: it waits only for a writer thread already running, so lines published
    // before the thread got going would be dropped. Wait for the writer to reach the ring's cursor.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (disruptor.getSequenceValueFor(writer) < ring.getCursor()) {
      if (System.nanoTime() - deadline > 0) {
        log.warn("access log: the writer did not catch up within 5s; stopping it");
        break;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
    disruptor.halt();
    writer.output.close();
  }

  /** The writer thread's part: formats each entry, writes it, and flushes at the end of each batch. */
  private static final class Writer implements EventHandler<AccessLogEntry> {
    private final Supplier<AccessLogOutput> opener;
    private AccessLogOutput output;
    private final LineFormat line;
    private volatile long written;
    /** A reopen that found the ring full: done before the next line. */
    volatile boolean reopenRequested;

    Writer(Supplier<AccessLogOutput> opener, LineFormat line) {
      this.opener = opener;
      this.line = line;
      this.output = opener.get();
    }

    @Override
    public void onEvent(AccessLogEntry entry, long sequence, boolean endOfBatch) {
      try {
        if (entry.reopensOutput || reopenRequested) {
          reopenRequested = false;
          reopenOutput();
        }
        if (!entry.reopensOutput) {
          output.write(line.format(entry));
          written++;
        }
      } finally {
        entry.clear();
        if (endOfBatch) {
          output.flush();
        }
      }
    }

    private void reopenOutput() {
      output.close();
      output = opener.get();
      log.info("access log reopened");
    }
  }

  /** A line that fails to format or write is logged (once per failure) and skipped; the writer goes on. */
  private static final class LogAndContinue implements ExceptionHandler<AccessLogEntry> {
    @Override
    public void handleEventException(Throwable ex, long sequence, AccessLogEntry event) {
      log.warn("access log: a line could not be written: {}", ex.toString());
    }

    @Override
    public void handleOnStartException(Throwable ex) {
      log.warn("access log: the writer did not start: {}", ex.toString());
    }

    @Override
    public void handleOnShutdownException(Throwable ex) {
      log.warn("access log: the writer did not stop cleanly: {}", ex.toString());
    }
  }
}
