package dev.meridian.proxy.cli;

import dev.meridian.proxy.server.ProxyServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reopens the access log's file (SIGUSR1, as for nginx): after logrotate moved it away, the lines that
 * follow go to a new file at its path. Files an operator's {@code log4j2.xml} names for the
 * application log are not reopened (Log4j keeps a file open across a reconfiguration): rotate those
 * with Log4j's own policies or logrotate's copytruncate.
 */
final class LogFiles {
  private static final Logger log = LoggerFactory.getLogger(LogFiles.class);

  private LogFiles() {}

  /** Reopens the access log's file. */
  static void reopen(ProxyServer proxy) {
    proxy.reopenAccessLog();
    log.info("SIGUSR1: log files reopened");
  }
}
