/**
 * HTTP/1.1 on the wire, read in place. Heads are parsed strictly (RFC 9112) into offsets in the
 * buffer they arrived in ({@link dev.meridian.proxy.http1.HeadParser}, {@link
 * dev.meridian.proxy.http1.RawRequest}, {@link dev.meridian.proxy.http1.RawResponse}, {@link
 * dev.meridian.proxy.http1.RawHeaders}); bodies are handed on as slices of the same buffers ({@link
 * dev.meridian.proxy.http1.Http1MessageDecoder}); and a head is written on as its kept field lines,
 * byte for byte, plus the proxy's own. No object is made per field on the way.
 *
 * <pre>
 *   client bytes --Http1RequestDecoder--> RawRequest + body slices
 *       --(route; rewrite: fields removed or added beside the raw ones)-->
 *   UpstreamHttpCodec: request line, kept raw lines, added lines --> backend
 *   backend bytes --Http1ResponseDecoder--> RawResponse + body slices
 *       --(rewrite)--> ServerHttpCodec: status line, kept raw lines, added lines --> client
 * </pre>
 *
 * <p>The parsers are the smuggling surface, so each is tested three ways: the strict-parsing cases,
 * a differential test against Netty's decoder on generated valid input, and Jazzer fuzzing (stored
 * inputs replayed in every test run).
 */
package dev.meridian.proxy.http1;
