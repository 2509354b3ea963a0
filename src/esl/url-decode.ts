/**
 * Decodes FreeSWITCH's URL encoding of plain-event and connect-reply header values.
 *
 * FreeSWITCH (switch_url_encode_opt in src/switch_utils.c) encodes unsafe bytes as `%XX` but copies a `%`
 * that is already followed by two hex digits unchanged, so a value may hold `%E9` (not valid UTF-8) or a
 * lone `%`. `decodeURIComponent` throws on both; this function never throws: valid `%XX` become bytes, any
 * other `%` is kept literally, and the bytes are read as UTF-8 (invalid sequences become U+FFFD).
 */
export function safeUrlDecode(value: string): string {
  if (value.indexOf('%') < 0) return value;
  const src = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x25 && i + 2 < src.length && isHex(src[i + 1]) && isHex(src[i + 2])) {
      out[n++] = (hexVal(src[i + 1]) << 4) | hexVal(src[i + 2]);
      i += 2;
    } else {
      out[n++] = c;
    }
  }
  return out.toString('utf8', 0, n);
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}
function hexVal(c: number): number {
  if (c <= 0x39) return c - 0x30;
  if (c <= 0x46) return c - 0x41 + 10;
  return c - 0x61 + 10;
}
