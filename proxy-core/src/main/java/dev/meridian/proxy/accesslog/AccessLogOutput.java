package dev.meridian.proxy.accesslog;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractOutputStreamAppender;
import org.apache.logging.log4j.core.config.builder.api.AppenderComponentBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilderFactory;
import org.apache.logging.log4j.core.config.builder.impl.BuiltConfiguration;

/**
 * Where access log lines go: standard output, or a file that Log4j 2 rotates by size
 * ({@code access.log.1} the newest rotated file, at most {@code maxFiles} kept, optionally
 * gzip-compressed).
 *
 * <p>The output has a Log4j 2 context of its own, so an operator's {@code log4j2.xml} (or its
 * reconfiguration) neither captures nor drops these lines. Lines are buffered and written when the
 * writer thread has no more waiting ({@link #flush}). Used by the writer thread only.
 */
final class AccessLogOutput implements AutoCloseable {
  private static final String APPENDER = "access";
  private final LoggerContext context;
  private final Logger logger;
  private final AbstractOutputStreamAppender<?> appender;

  private AccessLogOutput(LoggerContext context) {
    this.context = context;
    this.logger = context.getLogger("meridian.access");
    Appender named = context.getConfiguration().getAppender(APPENDER);
    this.appender = named instanceof AbstractOutputStreamAppender<?> stream ? stream : null;
  }

  /** Lines to standard output. */
  static AccessLogOutput stdout() {
    ConfigurationBuilder<BuiltConfiguration> b = builder();
    AppenderComponentBuilder console = b.newAppender(APPENDER, "Console")
        .addAttribute("target", "SYSTEM_OUT").addAttribute("immediateFlush", false)
        .add(b.newLayout("PatternLayout").addAttribute("pattern", "%m%n").addAttribute("charset", "UTF-8"));
    return start(b, console);
  }

  /**
   * Lines to a file, rotated when it reaches {@code maxFileBytes}; {@code maxFiles} rotated files are
   * kept beside it ({@code access.log.1} the newest), gzip-compressed when {@code compress}.
   */
  static AccessLogOutput file(Path file, long maxFileBytes, int maxFiles, boolean compress) {
    ConfigurationBuilder<BuiltConfiguration> b = builder();
    String name = file.toAbsolutePath().toString();
    AppenderComponentBuilder rolling = b.newAppender(APPENDER, "RollingRandomAccessFile")
        .addAttribute("fileName", name).addAttribute("filePattern", name + ".%i" + (compress ? ".gz" : ""))
        .addAttribute("immediateFlush", false).addAttribute("append", true)
        .add(b.newLayout("PatternLayout").addAttribute("pattern", "%m%n").addAttribute("charset", "UTF-8"))
        .addComponent(b.newComponent("Policies").addComponent(
            b.newComponent("SizeBasedTriggeringPolicy").addAttribute("size", Long.toString(maxFileBytes))))
        .addComponent(b.newComponent("DefaultRolloverStrategy").addAttribute("max", Integer.toString(maxFiles))
            .addAttribute("fileIndex", "min"));
    return start(b, rolling);
  }

  private static ConfigurationBuilder<BuiltConfiguration> builder() {
    ConfigurationBuilder<BuiltConfiguration> b = ConfigurationBuilderFactory.newConfigurationBuilder();
    b.setConfigurationName("meridian-access-log");
    b.setStatusLevel(Level.WARN);
    b.setShutdownHook("disable");
    return b;
  }

  private static AccessLogOutput start(ConfigurationBuilder<BuiltConfiguration> b, AppenderComponentBuilder appender) {
    b.add(appender);
    b.add(b.newRootLogger(Level.INFO).add(b.newAppenderRef(APPENDER)));
    LoggerContext context = new LoggerContext("meridian-access-log");
    context.start(b.build());
    return new AccessLogOutput(context);
  }

  /** Writes one line (a line break is added). */
  void write(CharSequence line) {
    logger.info(line);
  }

  /** Writes what is buffered to the file or stream. */
  void flush() {
    if (appender != null) {
      appender.getManager().flush();
    }
  }

  @Override
  public void close() {
    flush();
    context.stop(5, TimeUnit.SECONDS);
  }
}
