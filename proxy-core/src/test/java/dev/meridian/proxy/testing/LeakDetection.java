package dev.meridian.proxy.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's {@link ResourceLeakDetector} reports a leak while or before it ran.
 *
 * <p>Registered for every proxy-core test through {@code META-INF/services} and
 * {@code junit.jupiter.extensions.autodetection.enabled=true}. Loading this class installs a
 * {@link ResourceLeakDetectorFactory} whose detectors record each report (and still log it). That must
 * happen before the JVM's first {@code ByteBuf} allocation, because {@code AbstractByteBuf} creates its
 * detector once; auto-detection loads the extension before any test class runs. After all tests of a
 * class, {@link #collectLeaks()} runs the garbage collector and allocates buffers so the detectors drain
 * their reference queues, and any report fails the class.
 *
 * <p>Leaks surface when the leaked object is collected, so a leak may be blamed on a class that runs
 * after the one that caused it: read the access records in the report. Surefire runs tests with
 * {@code -Dio.netty.leakDetection.level=PARANOID}, which tracks every buffer.
 */
public final class LeakDetection implements BeforeAllCallback, AfterAllCallback {

  private static final List<String> REPORTS = new CopyOnWriteArrayList<>();
  private static final int GC_ROUNDS = 3;
  private static final long GC_WAIT_MILLIS = 2_000;

  static {
    install();
  }

  /** Installs the recording factory; repeated calls do nothing. */
  public static synchronized void install() {
    if (!(ResourceLeakDetectorFactory.instance() instanceof RecordingFactory)) {
      ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
    }
  }

  /** True if the {@code ByteBuf} detector is a recording one, i.e. the factory was installed in time. */
  public static boolean isRecordingByteBufLeaks() {
    try {
      Class<?> abstractByteBuf = Class.forName("io.netty.buffer.AbstractByteBuf");
      Field field = abstractByteBuf.getDeclaredField("leakDetector");
      field.setAccessible(true);
      return field.get(null) instanceof RecordingDetector;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /** The leak reports recorded so far and not yet cleared, without forcing collection. */
  public static List<String> reportedLeaks() {
    return List.copyOf(REPORTS);
  }

  /** Forgets every recorded report. */
  public static void clear() {
    REPORTS.clear();
  }

  /** Forgets the recorded reports {@code which} matches, e.g. a leak a test made on purpose. */
  public static void clear(Predicate<String> which) {
    REPORTS.removeIf(which);
  }

  /**
   * Runs the garbage collector and allocates and releases buffers so that leaked buffers are reported,
   * then returns every report recorded and not yet cleared.
   */
  public static List<String> collectLeaks() {
    for (int round = 0; round < GC_ROUNDS; round++) {
      awaitGarbageCollection();
      allocateAndRelease();
    }
    return reportedLeaks();
  }

  /** Throws an {@link AssertionError} listing the leaks {@link #collectLeaks()} finds, and clears them. */
  public static void assertNoLeaks(String where) {
    List<String> leaks = collectLeaks();
    if (leaks.isEmpty()) {
      return;
    }
    REPORTS.removeAll(leaks);
    StringBuilder message = new StringBuilder()
        .append(leaks.size()).append(" Netty resource leak(s) reported by the end of ").append(where)
        .append(" (the leak may come from an earlier test; see the access records):");
    for (String leak : leaks) {
      message.append("\n\n").append(leak);
    }
    throw new AssertionError(message.toString());
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    install();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    assertNoLeaks(context.getDisplayName());
  }

  /** Runs a GC and waits, with a deadline, until a sentinel weak reference is enqueued. */
  private static void awaitGarbageCollection() {
    ReferenceQueue<Object> queue = new ReferenceQueue<>();
    WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
    long deadline = System.nanoTime() + GC_WAIT_MILLIS * 1_000_000;
    try {
      while (System.nanoTime() < deadline) {
        System.gc();
        if (queue.remove(100) != null) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      sentinel.clear();
    }
  }

  /** Allocation is when a detector polls its reference queue, so allocate through each allocator. */
  private static void allocateAndRelease() {
    List<ByteBuf> buffers = new ArrayList<>();
    // Below PARANOID only a sample of allocations is tracked (and polls), so allocate enough of them.
    int count = ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.PARANOID ? 4 : 512;
    for (int i = 0; i < count; i++) {
      buffers.add(Unpooled.buffer(8));
      buffers.add(ByteBufAllocator.DEFAULT.buffer(8));
      buffers.add(PooledByteBufAllocator.DEFAULT.directBuffer(8));
      buffers.add(UnpooledByteBufAllocator.DEFAULT.heapBuffer(8));
    }
    buffers.forEach(ByteBuf::release);
  }

  /** Creates {@link RecordingDetector}s. */
  private static final class RecordingFactory extends ResourceLeakDetectorFactory {
    @Override
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
        long maxActive) {
      return new RecordingDetector<>(resource, samplingInterval);
    }
  }

  /** A detector that records each report in {@link #REPORTS} and logs it as Netty's does. */
  private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
    RecordingDetector(Class<?> resourceType, int samplingInterval) {
      super(resourceType, samplingInterval);
    }

    @Override
    protected boolean needReport() {
      return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
      REPORTS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected."
          + records);
      super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
      REPORTS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected"
          + " (no access records: run with -Dio.netty.leakDetection.level=PARANOID).");
      super.reportUntracedLeak(resourceType);
    }
  }
}
