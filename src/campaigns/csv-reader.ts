/**
 * Reads CSV text (RFC 4180: quoted fields with "" for a quote, CRLF or LF line ends) into rows of
 * fields. Pure. A quote left open makes it fail with the line it opened on. `lines[i]` is the
 * (1-based) line rows[i] starts on: empty lines are skipped and a quoted field may span lines.
 */
export function parseCsv(text: string): { ok: true; rows: string[][]; lines: number[] } | { ok: false; problem: string } {
  const rows: string[][] = [];
  const lines: number[] = [];
  let rowLine = 1;
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let quoteLine = 0;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark
  const endField = () => { row.push(field); field = ''; };
  const endRow = () => { endField(); if (row.length > 1 || row[0] !== '') { rows.push(row); lines.push(rowLine); } row = []; };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') { quoted = true; quoteLine = line; } else if (ch === ',') endField();
    else if (ch === '\n') { endRow(); line++; rowLine = line; } else if (ch === '\r' && text[i + 1] === '\n') { /* the LF ends it */ } else field += ch;
  }
  if (quoted) return { ok: false, problem: `a quoted field opened on line ${quoteLine} is not closed` };
  if (field !== '' || row.length > 0) endRow();
  return { ok: true, rows, lines };
}
