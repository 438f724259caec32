package dev.meridian.health;

import dev.meridian.balancer.Backend;
import io.netty.channel.Channel;

/**
 * How a group's check connections speak to a backend as its traffic does: what goes in a check
 * connection's pipeline before the check's own handlers (the group's TLS, with its ALPN and
 * verification; a PROXY protocol header writer), and whether the check is asked over HTTP/2 (a group
 * whose backends speak h2 or h2c). A check that spoke plain HTTP/1.1 to such a backend failed every
 * time, and its group sat in panic mode with its health ignored.
 */
public interface CheckConnections {
  /** Cleartext HTTP/1.1, nothing to set up. */
  CheckConnections PLAIN = new CheckConnections() {
    @Override
    public void setUp(Channel channel, Backend backend) {
    }
  };

  /** Adds what a connection to {@code backend} needs first (called while its pipeline is built). */
  void setUp(Channel channel, Backend backend);

  /** Whether the check request goes over HTTP/2 (prior knowledge on cleartext, ALPN h2 over TLS). Default: false. */
  default boolean http2() {
    return false;
  }
}
