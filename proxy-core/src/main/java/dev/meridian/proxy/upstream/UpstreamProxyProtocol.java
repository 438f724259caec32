package dev.meridian.proxy.upstream;

import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import java.util.Locale;

/**
 * Whether Meridian opens each connection to a backend group with a PROXY protocol header, and which
 * version: {@code backend-groups.NAME.proxy-protocol}.
 */
public enum UpstreamProxyProtocol {
  /** No header: the default. */
  NONE("none", null),
  /** The text header, {@code PROXY TCP4 client destination client-port destination-port}. */
  V1("v1", HAProxyProtocolVersion.V1),
  /** The binary header. */
  V2("v2", HAProxyProtocolVersion.V2);

  private final String configName;
  private final HAProxyProtocolVersion version;

  UpstreamProxyProtocol(String configName, HAProxyProtocolVersion version) {
    this.configName = configName;
    this.version = version;
  }

  /** The name used in the configuration. */
  public String configName() {
    return configName;
  }

  /** Whether connections start with a header. */
  public boolean sends() {
    return this != NONE;
  }

  /** Netty's name for the version; null for {@link #NONE}. */
  HAProxyProtocolVersion version() {
    return version;
  }

  /** The setting a configuration name stands for, or null for an unknown name. */
  public static UpstreamProxyProtocol fromConfig(String name) {
    for (UpstreamProxyProtocol p : values()) {
      if (p.configName.equals(name.toLowerCase(Locale.ROOT))) {
        return p;
      }
    }
    return null;
  }
}
