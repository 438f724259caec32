/**
 * Upstream connections: per-event-loop keep-alive pools and the handler at the end of each upstream
 * pipeline that hands a backend's response to the request using the connection.
 */
package dev.meridian.proxy.upstream;
