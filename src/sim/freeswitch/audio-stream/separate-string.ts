/**
 * FreeSWITCH's `switch_separate_string` (src/switch_utils.c), which `uuid_audio_stream` uses to split
 * its arguments. Quirks kept on purpose because the daemon must cope with them:
 * - at most `max` tokens; the last one receives the rest of the line (spaces included);
 * - single quotes group words and are removed; an unmatched quote is kept as text (cleanup step);
 * - backslash escapes `\'`, `\"`, `\\`, `\<delim>`, `\n`, `\r`, `\t`, `\s` are decoded; others stay as is;
 * - `^^X` at the very start switches the delimiter to X (drachtio-fsmrf uses `^^|`);
 * - leading and trailing blanks of every token are trimmed (outside quotes).
 */
export function separateString(input: string, delim: string, max: number): string[] {
  let buf = input;
  let d = delim;
  if (buf.startsWith('^^') && buf.length >= 4) {
    d = buf[2]!;
    buf = buf.slice(3);
  }
  const raw = d === ' ' ? splitBlank(buf, max) : splitChar(buf, d, max);
  return raw.map((tok) => cleanup(tok, d));
}

// Tokenizer with a blank delimiter: runs of blanks separate tokens, quotes toggle on every `'`.
function splitBlank(buf: string, max: number): string[] {
  const out: string[] = [];
  let state: 'start' | 'skipInitial' | 'findDelim' | 'skipEnding' = 'start';
  let tokStart = 0;
  let inQuotes = false;
  let i = 0;
  while (i < buf.length && out.length < max) {
    const c = buf[i]!;
    switch (state) {
      case 'start':
        tokStart = i;
        out.push(''); // placeholder, closed below
        state = 'skipInitial';
        break;
      case 'skipInitial':
        if (c === ' ') i++;
        else state = 'findDelim';
        break;
      case 'findDelim':
        if (c === '\\') {
          i++;
        } else if (c === "'") {
          inQuotes = !inQuotes;
        } else if (c === ' ' && !inQuotes) {
          out[out.length - 1] = buf.slice(tokStart, i);
          tokStart = -1;
          state = 'skipEnding';
        }
        i++;
        break;
      case 'skipEnding':
        if (c === ' ') i++;
        else state = 'start';
        break;
    }
  }
  // The token still open (count reached max, or end of input) runs to the end of the line.
  if (out.length > 0 && tokStart >= 0) out[out.length - 1] = buf.slice(tokStart);
  return out;
}

// Tokenizer with another delimiter: every delimiter ends a token (empty tokens possible).
function splitChar(buf: string, d: string, max: number): string[] {
  const out: string[] = [];
  let state: 'start' | 'findDelim' = 'start';
  let tokStart = 0;
  let inQuotes = false;
  let i = 0;
  while (i < buf.length && out.length < max) {
    const c = buf[i]!;
    if (state === 'start') {
      tokStart = i;
      out.push('');
      state = 'findDelim';
      continue;
    }
    if (c === '\\') {
      i++;
    } else if (c === "'" && (inQuotes || buf.indexOf("'", i + 1) >= 0)) {
      inQuotes = !inQuotes;
    } else if (c === d && !inQuotes) {
      out[out.length - 1] = buf.slice(tokStart, i);
      tokStart = -1;
      state = 'start';
    }
    i++;
  }
  if (out.length > 0 && tokStart >= 0) out[out.length - 1] = buf.slice(tokStart);
  return out;
}

const UNESCAPE: Record<string, string> = { n: '\n', r: '\r', t: '\t', s: ' ' };

// cleanup_separated_string: strips quotes, decodes escapes, trims blanks outside quotes.
function cleanup(tok: string, d: string): string {
  let i = 0;
  while (i < tok.length && tok[i] === ' ') i++;
  let dest = '';
  let end = -1;
  let inQuotes = false;
  for (; i < tok.length; i++) {
    const c = tok[i]!;
    if (c === '\\' && i + 1 < tok.length) {
      const e = tok[i + 1]!;
      const literal = e === "'" || e === '"' || e === d || e === '\\';
      const un = literal ? e : UNESCAPE[e];
      if (un !== undefined) {
        i++;
        dest += un;
        end = dest.length;
        continue;
      }
    }
    if (c === "'" && (inQuotes || tok.indexOf("'", i + 1) >= 0)) {
      inQuotes = !inQuotes;
      if (inQuotes) end = dest.length;
    } else {
      dest += c;
      if (c !== ' ' || inQuotes) end = dest.length;
    }
  }
  return end >= 0 ? dest.slice(0, end) : dest;
}
