package dev.meridian.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.Mapping;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/** A TLS echo server on 127.0.0.1:0 and a Netty TLS client, for the tests. */
final class TlsTestPeers implements AutoCloseable {
    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    /** Server-side handshake outcomes, in order. */
    final BlockingQueue<SslHandshakeCompletionEvent> serverHandshakes = new LinkedBlockingQueue<>();
    private Channel server;

    /** Starts an echo server behind {@code new SniHandler(mapping)}; returns its port. */
    int startServer(Mapping<String, SslContext> mapping) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new SniHandler(mapping), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent e) {
                                    serverHandshakes.add(e);
                                }
                                ctx.fireUserEventTriggered(evt);
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ctx.writeAndFlush(msg);
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Connects and completes the handshake (throwing its failure); {@code sni} null sends no SNI. */
    Client connect(SslContext context, String sni, int port) throws Exception {
        return connect(ch -> sni == null ? context.newHandler(ch.alloc()) : context.newHandler(ch.alloc(), sni, port), port);
    }

    Client connect(Function<Channel, SslHandler> handlers, int port) throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        AtomicReference<SslHandler> sslRef = new AtomicReference<>();
        Channel channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        sslRef.set(handlers.apply(ch));
                        ch.pipeline().addLast(sslRef.get(), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ByteBuf buf = (ByteBuf) msg;
                                received.add(buf.toString(StandardCharsets.UTF_8));
                                buf.release();
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        SslHandler ssl = sslRef.get(); // read from the pipeline it may already be gone with a failed handshake
        try {
            ssl.handshakeFuture().sync();
        } catch (Exception e) {
            channel.close();
            throw e;
        }
        return new Client(channel, ssl, received);
    }

    @Override
    public void close() {
        if (server != null) {
            server.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    record Client(Channel channel, SslHandler ssl, BlockingQueue<String> received) implements AutoCloseable {
        X509Certificate peerCertificate() throws Exception {
            return (X509Certificate) ssl.engine().getSession().getPeerCertificates()[0];
        }

        /** Sends {@code text} and returns what the echo server sent back (null after 5 s). */
        String echo(String text) throws Exception {
            channel.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)).sync();
            StringBuilder got = new StringBuilder();
            while (got.length() < text.length()) {
                String part = received.poll(5, TimeUnit.SECONDS);
                if (part == null) {
                    return null;
                }
                got.append(part);
            }
            return got.toString();
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
        }
    }
}
