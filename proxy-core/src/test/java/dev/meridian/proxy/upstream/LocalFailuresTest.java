package dev.meridian.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelException;
import io.netty.channel.ConnectTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/** Which failures are this process's own (not counted against a backend's health). */
class LocalFailuresTest {
  @Test
  void runningOutOfDescriptorsOrDirectMemoryIsLocal() {
    assertThat(LocalFailures.isLocal(new ChannelException("Unable to create Channel from class EpollSocketChannel",
        new IOException("socket(..) failed: Too many open files")))).isTrue();
    assertThat(LocalFailures.isLocal(new IOException("connect(..) failed with error(-24): Too many open files")))
        .isTrue();
    assertThat(LocalFailures.isLocal(new io.netty.handler.codec.DecoderException(
        new OutOfMemoryError("failed to allocate 65536 byte(s) of direct memory")))).isTrue();
  }

  @Test
  void aBackendsFailureIsNot() {
    assertThat(LocalFailures.isLocal(new ConnectException("Connection refused"))).isFalse();
    assertThat(LocalFailures.isLocal(new ConnectTimeoutException("connection timed out"))).isFalse();
    assertThat(LocalFailures.isLocal(new IOException("Connection reset by peer"))).isFalse();
    assertThat(LocalFailures.isLocal(null)).isFalse();
  }
}
