package dev.meridian.proxy.forwarding;

import dev.meridian.proxy.testing.RawHttp2Client;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An HTTP/2 request as a fuzz input spells it, and the frames a client sends for it. The input is
 * text, one item a line:
 * <pre>
 *   :method: POST          a field of the request's header block, in the order given (pseudo-header
 *   content-length: 5      fields too: missing, repeated or after the others as the lines say)
 *   &#64;data hello            a DATA frame ("&#64;data" alone: an empty one; "&#64;data*N x": x written N times)
 *   &#64;trailers              the fields after it go in a further HEADERS frame
 * </pre>
 * Escapes {@code \r \n \t \0 \xHH \\} put any byte in a name, value or payload; blank lines are
 * skipped; the value starts after the colon and one space. The last frame ends the stream. Whatever
 * the bytes, they read as some request, so every mutation the fuzzer makes is one a client could send.
 * Header blocks are HPACK literals that are never indexed, so the bytes go as written.
 */
final class Http2RequestScript {
  /** Most DATA bytes in one request: below the initial flow-control windows, so the client never waits. */
  static final int MAX_BODY = 60_000;
  private static final int MAX_FRAME = 16_384;

  /** A header field as the client sends it: any bytes. */
  record Field(byte[] name, byte[] value) {
    String nameText() {
      return new String(name, StandardCharsets.ISO_8859_1);
    }

    String valueText() {
      return new String(value, StandardCharsets.ISO_8859_1);
    }

    boolean isPseudo() {
      return name.length > 0 && name[0] == ':';
    }

    @Override
    public String toString() {
      return escape(name) + ": " + escape(value);
    }
  }

  /** A HEADERS frame (its fields) or a DATA frame (its payload, when {@code fields} is null). */
  record Frame(List<Field> fields, byte[] payload) {
    boolean isHeaders() {
      return fields != null;
    }
  }

  /** The frames in order: the first is the request's HEADERS. */
  final List<Frame> frames;

  private Http2RequestScript(List<Frame> frames) {
    this.frames = frames;
  }

  /** Reads a fuzz input (see the class comment). */
  static Http2RequestScript parse(byte[] input) {
    List<Frame> frames = new ArrayList<>();
    List<Field> fields = new ArrayList<>();
    frames.add(new Frame(fields, null));
    int bodyBytes = 0;
    int start = 0;
    while (start <= input.length) {
      int end = indexOf(input, (byte) '\n', start);
      byte[] line = Arrays.copyOfRange(input, start, end);
      start = end + 1;
      if (line.length == 0) {
        continue;
      }
      if (startsWith(line, "@trailers")) {
        fields = new ArrayList<>();
        frames.add(new Frame(fields, null));
      } else if (startsWith(line, "@data")) {
        byte[] payload = payload(line, MAX_BODY - bodyBytes);
        bodyBytes += payload.length;
        frames.add(new Frame(null, payload));
      } else {
        int colon = indexOf(line, (byte) ':', line[0] == ':' ? 1 : 0);
        byte[] value = colon + 1 < line.length && line[colon + 1] == ' '
            ? Arrays.copyOfRange(line, Math.min(line.length, colon + 2), line.length)
            : Arrays.copyOfRange(line, Math.min(line.length, colon + 1), line.length);
        fields.add(new Field(unescape(Arrays.copyOfRange(line, 0, colon)), unescape(value)));
      }
    }
    return new Http2RequestScript(frames);
  }

  /** The payload of a {@code @data} line, cut to {@code room} bytes. */
  private static byte[] payload(byte[] line, int room) {
    int at = "@data".length();
    int times = 1;
    if (at < line.length && line[at] == '*') {
      times = 0;
      for (at++; at < line.length && line[at] >= '0' && line[at] <= '9'; at++) {
        times = Math.min(MAX_BODY, times * 10 + line[at] - '0');
      }
    }
    if (at < line.length && line[at] == ' ') {
      at++;
    }
    byte[] once = unescape(Arrays.copyOfRange(line, Math.min(at, line.length), line.length));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < times && out.size() + once.length <= room && once.length > 0; i++) {
      out.writeBytes(once);
    }
    return out.toByteArray();
  }

  /** The request's header block (the first HEADERS frame). */
  List<Field> head() {
    return frames.get(0).fields();
  }

  /** The HEADERS frames after the first: trailers, when there is one and it is the last frame. */
  List<Frame> laterHeaders() {
    return frames.stream().skip(1).filter(Frame::isHeaders).toList();
  }

  /** Every DATA payload, joined. */
  byte[] body() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    frames.stream().filter(f -> !f.isHeaders()).forEach(f -> out.writeBytes(f.payload()));
    return out.toByteArray();
  }

  /** The frames' bytes on the stream: HEADERS (CONTINUATION after 16 KiB), DATA cut at 16 KiB, END_STREAM on the last. */
  byte[] encode(int stream) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < frames.size(); i++) {
      Frame frame = frames.get(i);
      int end = i == frames.size() - 1 ? RawHttp2Client.END_STREAM : 0;
      if (frame.isHeaders()) {
        byte[] block = hpack(frame.fields());
        int first = Math.min(block.length, MAX_FRAME);
        int flags = end | (first == block.length ? RawHttp2Client.END_HEADERS : 0);
        out.writeBytes(RawHttp2Client.frame(RawHttp2Client.HEADERS, flags, stream, Arrays.copyOf(block, first)));
        for (int at = first; at < block.length; at += MAX_FRAME) {
          int to = Math.min(block.length, at + MAX_FRAME);
          out.writeBytes(RawHttp2Client.frame(RawHttp2Client.CONTINUATION,
              to == block.length ? RawHttp2Client.END_HEADERS : 0, stream, Arrays.copyOfRange(block, at, to)));
        }
      } else {
        byte[] payload = frame.payload();
        int at = 0;
        do {
          int to = Math.min(payload.length, at + MAX_FRAME);
          out.writeBytes(RawHttp2Client.frame(RawHttp2Client.DATA, to == payload.length ? end : 0, stream,
              Arrays.copyOfRange(payload, at, to)));
          at = to;
        } while (at < payload.length);
      }
    }
    return out.toByteArray();
  }

  /** Each field as a literal never indexed, with a literal name (RFC 7541 section 6.2.3), no Huffman coding. */
  private static byte[] hpack(List<Field> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Field field : fields) {
      out.write(0x10);
      for (byte[] text : new byte[][] {field.name(), field.value()}) {
        int n = text.length;
        if (n < 127) {
          out.write(n);
        } else {
          out.write(127);
          for (n -= 127; n >= 128; n >>>= 7) {
            out.write((n & 127) | 128);
          }
          out.write(n);
        }
        out.writeBytes(text);
      }
    }
    return out.toByteArray();
  }

  /** The request in the input's own notation, for assertion messages. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < frames.size(); i++) {
      Frame frame = frames.get(i);
      if (!frame.isHeaders()) {
        text.append("@data ").append(escape(frame.payload())).append('\n');
        continue;
      }
      if (i > 0) {
        text.append("@trailers\n");
      }
      frame.fields().forEach(field -> text.append(field).append('\n'));
    }
    return text.toString();
  }

  private static String escape(byte[] bytes) {
    StringBuilder text = new StringBuilder();
    for (byte b : bytes) {
      int c = b & 0xff;
      if (c == '\\') {
        text.append("\\\\");
      } else if (c >= 0x20 && c < 0x7f) {
        text.append((char) c);
      } else {
        text.append(String.format("\\x%02x", c));
      }
    }
    return text.length() > 200 ? text.substring(0, 200) + "...(" + bytes.length + " bytes)" : text.toString();
  }

  private static byte[] unescape(byte[] text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(text.length);
    for (int i = 0; i < text.length; i++) {
      byte b = text[i];
      if (b != '\\' || i + 1 == text.length) {
        out.write(b);
        continue;
      }
      byte next = text[++i];
      switch (next) {
        case 'r' -> out.write('\r');
        case 'n' -> out.write('\n');
        case 't' -> out.write('\t');
        case '0' -> out.write(0);
        case '\\' -> out.write('\\');
        case 'x' -> {
          int hex = i + 2 < text.length ? hex(text[i + 1], text[i + 2]) : -1;
          if (hex < 0) {
            out.write('\\');
            out.write('x');
          } else {
            out.write(hex);
            i += 2;
          }
        }
        default -> {
          out.write('\\');
          out.write(next);
        }
      }
    }
    return out.toByteArray();
  }

  private static int hex(byte high, byte low) {
    int h = Character.digit(high, 16);
    int l = Character.digit(low, 16);
    return h < 0 || l < 0 ? -1 : h << 4 | l;
  }

  private static boolean startsWith(byte[] line, String prefix) {
    if (line.length < prefix.length()) {
      return false;
    }
    for (int i = 0; i < prefix.length(); i++) {
      if (line[i] != prefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(byte[] bytes, byte b, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return bytes.length;
  }
}
