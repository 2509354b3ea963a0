/**
 * FreeSWITCH's URL encoding of plain event header values (`switch_url_encode_opt` with
 * double_encode off, table SWITCH_URL_UNSAFE in src/include/switch_utils.h): bytes < 0x20,
 * > 0x7E and the unsafe set become `%XX` with uppercase hex; a `%` already followed by two
 * characters of `0123456789ABCDEF` is copied as is; `/` is left alone; space is `%20`.
 */
const UNSAFE = new Set(Array.from('\r\n #%&+:;<=>?@[\\]^`{|}"').map((c) => c.charCodeAt(0)));
const HEX_UPPER = '0123456789ABCDEF';

function isUpperHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46));
}

/** Encodes one header value the way FreeSWITCH writes it into `text/event-plain`. */
export function fsUrlEncode(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && isUpperHex(bytes[i + 1]) && isUpperHex(bytes[i + 2])) {
      out += '%';
      continue;
    }
    if (b < 0x20 || b > 0x7e || UNSAFE.has(b)) {
      out += '%' + HEX_UPPER[b >> 4] + HEX_UPPER[b & 15];
    } else {
      out += String.fromCharCode(b);
    }
  }
  return out;
}
