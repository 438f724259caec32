package dev.meridian.proxy.transport;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Wraps Netty's epoll I/O handler so that a channel whose interest set drops to nothing stays in the
 * epoll set, parked with {@code EPOLLET} alone, instead of being deleted from it.
 *
 * <p>Netty 4.2.18 deletes such a descriptor ({@code EPOLL_CTL_DEL}) but keeps its registration marked
 * as added, so the next interest it asks for goes out as {@code EPOLL_CTL_MOD} and fails with
 * {@code ENOENT}; the channel then shuts its output. A client connection gets there when its client
 * half-closes (TCP FIN, kept open by {@code ALLOW_HALF_CLOSURE} so its answer can still be sent):
 * reading and read-hang-up interest are cleared, then a write that completes clears
 * {@code EPOLLOUT}, and the next write that meets a full socket buffer asks for it again and fails:
 * the client's answer was cut short (5,000,000 bytes arrived as 4,011,921). The {@code nio} transport
 * does not do this. Parked, the descriptor stays registered, so that later {@code EPOLL_CTL_MOD}
 * succeeds; {@code EPOLLET} alone asks for no readiness event (the kernel reports only error and
 * hang-up, and edge-triggered, so a hung-up socket does not wake the loop on every wait, which is what
 * Netty's deletion avoided). A closed channel's registration is cancelled as before, which deletes
 * it. A descriptor never added to epoll still takes Netty's own path for an empty interest set.
 *
 * <p>Registrations are submitted to on their channel's event loop only, as Netty does.
 */
public final class HalfCloseSafeEpoll implements IoHandlerFactory {
  /** The interest a registration is parked with instead of none. */
  private static final EpollIoOps PARKED = EpollIoOps.EPOLLET;

  private final IoHandlerFactory epoll;

  private HalfCloseSafeEpoll(IoHandlerFactory epoll) {
    this.epoll = epoll;
  }

  /** Wraps {@code EpollIoHandler.newFactory()}. */
  public static IoHandlerFactory wrap(IoHandlerFactory epoll) {
    return new HalfCloseSafeEpoll(epoll);
  }

  @Override
  public IoHandler newHandler(ThreadAwareExecutor executor) {
    return new Handler(epoll.newHandler(executor));
  }

  @Override
  public boolean isChangingThreadSupported() {
    return epoll.isChangingThreadSupported();
  }

  /** Netty's handler, its registrations wrapped. */
  private static final class Handler implements IoHandler {
    private final IoHandler epoll;

    Handler(IoHandler epoll) {
      this.epoll = epoll;
    }

    @Override
    public void initialize() {
      epoll.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
      return epoll.run(context);
    }

    @Override
    public void prepareToDestroy() {
      epoll.prepareToDestroy();
    }

    @Override
    public void destroy() {
      epoll.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
      return new Registration(epoll.register(handle));
    }

    @Override
    public void wakeup() {
      epoll.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
      return epoll.isCompatible(handleType);
    }
  }

  /** One channel's registration: an empty interest set, once added to epoll, is parked instead. */
  private static final class Registration implements IoRegistration {
    private final IoRegistration epoll;
    /** Whether Netty has added the descriptor to the epoll set (an interest was submitted). */
    private boolean added;

    Registration(IoRegistration epoll) {
      this.epoll = epoll;
    }

    @Override
    public <T> T attachment() {
      return epoll.attachment();
    }

    @Override
    public long submit(IoOps ops) {
      if (((EpollIoOps) ops).value() == 0) {
        if (!added) {
          return epoll.submit(ops); // Netty adds nothing for an empty set it never added
        }
        long parked = epoll.submit(PARKED); // EPOLL_CTL_MOD: stays in the set
        return parked == -1L ? -1L : 0L; // -1: the registration was cancelled
      }
      long result = epoll.submit(ops);
      if (result != -1L) {
        added = true;
      }
      return result;
    }

    @Override
    public boolean isValid() {
      return epoll.isValid();
    }

    @Override
    public boolean cancel() {
      return epoll.cancel();
    }
  }
}
