/**
 * Upstream connections: per-event-loop keep-alive pools and the handler at the end of each upstream
 * pipeline that hands a backend's response to the request using the connection; for groups that send
 * the PROXY protocol, the header each connection opens with (such a connection is reserved for the
 * client connection it names).
 */
package dev.meridian.proxy.upstream;
