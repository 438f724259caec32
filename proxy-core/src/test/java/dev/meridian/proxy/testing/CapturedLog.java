package dev.meridian.proxy.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/**
 * The messages one class's logger writes while this is open, at every level down to {@code level}
 * (the logger is set to it meanwhile, then put back): a test asserts what an operator would read.
 */
public final class CapturedLog implements AutoCloseable {
  private final List<String> messages = new CopyOnWriteArrayList<>();
  private final Logger logger;
  private final Level levelBefore;
  private final AbstractAppender appender;

  private CapturedLog(Class<?> owner, Level level) {
    logger = (Logger) LogManager.getLogger(owner);
    levelBefore = logger.getLevel();
    appender = new AbstractAppender("captured-" + owner.getSimpleName(), null, null, true, Property.EMPTY_ARRAY) {
      @Override
      public void append(LogEvent event) {
        messages.add(event.getMessage().getFormattedMessage());
      }
    };
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(level);
  }

  /** Captures what {@code owner}'s logger writes at {@code level} and above. */
  public static CapturedLog of(Class<?> owner, Level level) {
    return new CapturedLog(owner, level);
  }

  /** The messages so far, formatted, oldest first. */
  public List<String> messages() {
    return List.copyOf(messages);
  }

  @Override
  public void close() {
    logger.removeAppender(appender);
    logger.setLevel(levelBefore);
    appender.stop();
  }
}
