package dev.meridian.proxy.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;

/**
 * The process's own meters: Micrometer's JVM binders (memory, garbage collection, threads, classes),
 * process CPU, uptime and file descriptors, and Netty's buffer allocator memory,
 * {@code netty_allocator_memory_used_bytes{type="direct"|"heap"}}. Closing stops the GC listener.
 */
public final class ProcessMeters implements AutoCloseable {
  private final JvmGcMetrics gc = new JvmGcMetrics();

  /** Binds every process meter to the registry. */
  public ProcessMeters(MeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
      Gauge.builder("netty.allocator.memory.used", provider, p -> p.metric().usedDirectMemory()).baseUnit("bytes")
          .description("Memory Netty's buffer allocator holds").tag("type", "direct").register(registry);
      Gauge.builder("netty.allocator.memory.used", provider, p -> p.metric().usedHeapMemory()).baseUnit("bytes")
          .description("Memory Netty's buffer allocator holds").tag("type", "heap").register(registry);
    }
  }

  @Override
  public void close() {
    gc.close();
  }
}
