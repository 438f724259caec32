package dev.meridian.proxy.config;

import java.net.InetSocketAddress;

/**
 * A host and port as written in the configuration ({@code 127.0.0.1:8080}, {@code [::1]:8080},
 * {@code localhost:80}); resolved only when a socket is opened.
 */
public record HostPort(String host, int port) {

  /** Checks the port range and that a host is given. */
  public HostPort {
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("host: empty (expected: a name or an IP address)");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
    }
  }

  /**
   * Parses {@code host:port}, where an IPv6 host is written in brackets.
   *
   * @throws IllegalArgumentException with a message saying what is wrong
   */
  public static HostPort parse(String text) {
    String s = text.trim();
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("'" + text + "' has no port (expected: host:port)");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[")) {
      if (!host.endsWith("]") || host.length() < 3) {
        throw new IllegalArgumentException("'" + text + "' has an unclosed IPv6 bracket (expected: [::1]:port)");
      }
      host = host.substring(1, host.length() - 1);
    } else if (host.indexOf(':') >= 0) {
      throw new IllegalArgumentException("'" + text + "' is an IPv6 address without brackets (expected: [::1]:port)");
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has a port that is not a number (expected: 0-65535)");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("'" + text + "' has port " + port + " (expected: 0-65535)");
    }
    return new HostPort(host, port);
  }

  /** An unresolved socket address, resolved by the transport when it connects or binds. */
  public InetSocketAddress toSocketAddress() {
    return InetSocketAddress.createUnresolved(host, port);
  }

  /** The authority form: {@code host:port}, with brackets around an IPv6 host. */
  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
