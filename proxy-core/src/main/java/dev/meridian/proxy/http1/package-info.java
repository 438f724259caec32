/**
 * HTTP/1.1 on the wire, read in place: a request head is parsed strictly (RFC 9112) into offsets in
 * the buffer it arrived in ({@link dev.meridian.proxy.http1.RequestHeadParser},
 * {@link dev.meridian.proxy.http1.RawRequest}, {@link dev.meridian.proxy.http1.RawHeaders}), its body
 * handed on as slices of the same buffers ({@link dev.meridian.proxy.http1.Http1RequestDecoder}), and
 * written to a backend as the kept field lines byte for byte plus the proxy's own
 * ({@link dev.meridian.proxy.http1.UpstreamHttpCodec}). No per-field object is made on the way.
 *
 * <pre>
 *   client bytes --Http1RequestDecoder--> RawRequest (offsets) + body slices
 *        --(route, rewrite: fields removed/added beside the raw ones)-->
 *   UpstreamHttpCodec: request line + kept raw lines + added lines --> backend bytes
 * </pre>
 *
 * <p>The parser is the smuggling surface, so it is tested three ways: the strict-parsing cases,
 * a differential test against Netty's strict decoder on generated valid input, and Jazzer fuzzing
 * (stored inputs replayed in every test run).
 */
package dev.meridian.proxy.http1;
