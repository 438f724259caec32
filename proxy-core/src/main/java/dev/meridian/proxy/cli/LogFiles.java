package dev.meridian.proxy.cli;

import dev.meridian.proxy.server.ProxyServer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reopens the files Meridian writes its logs to (SIGUSR1, as for nginx): the access log's file, and
 * any file the application log's Log4j 2 configuration names, which a reconfiguration opens anew. After
 * logrotate moved a file away, the lines that follow go to a new file at its path.
 */
final class LogFiles {
  private static final Logger log = LoggerFactory.getLogger(LogFiles.class);

  private LogFiles() {}

  /** Reopens the access log's file and the application log's files. */
  static void reopen(ProxyServer proxy) {
    proxy.reopenAccessLog();
    if (LogManager.getContext(false) instanceof LoggerContext application) {
      application.reconfigure();
    }
    log.info("SIGUSR1: log files reopened");
  }
}
