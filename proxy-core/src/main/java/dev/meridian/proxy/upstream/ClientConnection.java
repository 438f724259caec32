package dev.meridian.proxy.upstream;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;

/**
 * The client connection a request came on, as the upstream connections of a group that sends the
 * PROXY protocol need it: the connection they are reserved for, and the addresses their header names.
 *
 * @param connection  the client's connection (for a request on an HTTP/2 stream, the connection, not
 *                    the stream); its upstream connections close when it closes
 * @param source      the client's address and port: the one the client's own PROXY header named
 *                    (listeners[].proxy-protocol-from), else the peer's; null when unknown
 * @param destination the address and port the client connected to: the one its PROXY header named,
 *                    else the listener's local address; null when unknown
 */
public record ClientConnection(Channel connection, InetSocketAddress source, InetSocketAddress destination) {}
