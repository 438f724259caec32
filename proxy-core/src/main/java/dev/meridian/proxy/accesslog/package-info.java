/**
 * The access log: one JSON line per request, written off the event loops. An event loop claims a
 * pre-allocated {@link dev.meridian.proxy.accesslog.AccessLogEntry} in a ring ({@link
 * dev.meridian.proxy.accesslog.AccessLog}), fills it with references to what the request already
 * holds and publishes it; one writer thread formats the line ({@link
 * dev.meridian.proxy.accesslog.AccessLogLine}) and hands it to the output ({@link
 * dev.meridian.proxy.accesslog.AccessLogOutput}: standard output, or a file Log4j 2 rotates). A full
 * ring drops the line and counts it; the event loop never waits.
 */
package dev.meridian.proxy.accesslog;
