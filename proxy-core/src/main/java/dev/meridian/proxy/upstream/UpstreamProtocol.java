package dev.meridian.proxy.upstream;

import java.util.Locale;

/** The HTTP version Meridian speaks to a backend group: {@code backend-groups.NAME.protocol}. */
public enum UpstreamProtocol {
  /** HTTP/1.1 on keep-alive connections, one request at a time (over TLS when the group enables it). */
  HTTP1("http1"),
  /** HTTP/2 over TLS, negotiated by ALPN; many streams per connection. */
  H2("h2"),
  /** HTTP/2 over cleartext TCP with prior knowledge (no Upgrade). */
  H2C("h2c");

  private final String configName;

  UpstreamProtocol(String configName) {
    this.configName = configName;
  }

  /** The name used in the configuration. */
  public String configName() {
    return configName;
  }

  /** Whether requests go over HTTP/2 streams. */
  public boolean isHttp2() {
    return this != HTTP1;
  }

  /** The protocol a configuration name stands for, or null for an unknown name. */
  public static UpstreamProtocol fromConfig(String name) {
    for (UpstreamProtocol p : values()) {
      if (p.configName.equals(name.toLowerCase(Locale.ROOT))) {
        return p;
      }
    }
    return null;
  }
}
