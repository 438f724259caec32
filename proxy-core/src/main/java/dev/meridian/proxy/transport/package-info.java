/**
 * Socket-level plumbing shared by the client and upstream sides: which I/O transport the event loops
 * run on, the per-connection idle timeout, and how direct memory is allocated. Knows nothing of HTTP, routing or configuration files.
 */
package dev.meridian.proxy.transport;
