import t from 'tap';
import fc from 'fast-check';
import { parseCsv } from '../../../src/campaigns/csv-reader.js';
import { csvCell } from '../../../src/store/csv.js';

/** The rows of a parse that must succeed. */
function rowsOf(text: string): string[][] {
  const r = parseCsv(text);
  if (!r.ok) throw new Error(`expected rows for ${JSON.stringify(text)}: ${r.problem}`);
  return r.rows;
}

/** The problem of a parse that must fail. */
function problemOf(text: string): string {
  const r = parseCsv(text);
  if (r.ok) throw new Error(`expected a problem for ${JSON.stringify(text)}, got ${JSON.stringify(r.rows)}`);
  return r.problem;
}

t.test('plain rows', (t) => {
  t.same(rowsOf('number,name\n+12125551234,Ann\n'), [['number', 'name'], ['+12125551234', 'Ann']]);
  t.same(rowsOf('a'), [['a']], 'one field, no line end');
  t.same(rowsOf(''), [], 'empty text');
  t.same(rowsOf('a,b,c'), [['a', 'b', 'c']]);
  t.same(rowsOf(' a , b '), [[' a ', ' b ']], 'spaces are kept');
  t.end();
});

t.test('quoted fields', (t) => {
  t.same(rowsOf('"Smith, Ann",2\n'), [['Smith, Ann', '2']], 'a comma inside quotes');
  t.same(rowsOf('"say ""hi""",x\n'), [['say "hi"', 'x']], '"" is a quote');
  t.same(rowsOf('""""\n'), [['"']], 'a field that is one quote');
  t.same(rowsOf('"",x\n'), [['', 'x']], 'a quoted empty field');
  t.same(rowsOf('"a\nb",c\n'), [['a\nb', 'c']], 'LF inside quotes');
  t.same(rowsOf('"a\r\nb",c\r\n'), [['a\r\nb', 'c']], 'CRLF inside quotes is kept as is');
  t.same(rowsOf('"a,\n""b""\n,c"'), [['a,\n"b"\n,c']], 'everything at once, no line end');
  t.same(rowsOf('x,"a"\n'), [['x', 'a']], 'a quoted last field');
  t.same(rowsOf('a"b,c\n'), [['a"b', 'c']], 'a quote inside an unquoted field is a character');
  t.end();
});

t.test('CRLF and LF line ends, mixed', (t) => {
  const want = [['a', 'b'], ['c', 'd'], ['e', 'f']];
  t.same(rowsOf('a,b\r\nc,d\r\ne,f\r\n'), want, 'CRLF');
  t.same(rowsOf('a,b\nc,d\ne,f\n'), want, 'LF');
  t.same(rowsOf('a,b\r\nc,d\ne,f'), want, 'mixed, no final line end');
  t.same(rowsOf('a,b\r\n'), [['a', 'b']], 'a final CRLF adds no row');
  t.same(rowsOf('a,b'), [['a', 'b']], 'no final line end');
  t.end();
});

t.test('a byte-order mark is dropped', (t) => {
  t.same(rowsOf('\uFEFFnumber,name\r\n1,2\r\n'), [['number', 'name'], ['1', '2']]);
  t.same(rowsOf('\uFEFF"number",name\n'), [['number', 'name']], 'before a quoted field');
  t.same(rowsOf('a,\uFEFFb\n'), [['a', '\uFEFFb']], 'only at the start of the text');
  t.end();
});

t.test('empty lines are skipped, empty fields kept', (t) => {
  t.same(rowsOf('a,b\n\n\nc,d\n'), [['a', 'b'], ['c', 'd']], 'LF blank lines');
  t.same(rowsOf('\r\na,b\r\n\r\nc,d\r\n\r\n'), [['a', 'b'], ['c', 'd']], 'CRLF blank lines, leading and trailing');
  t.same(rowsOf('\n\n'), [], 'only blank lines');
  t.same(rowsOf('a,,c\n'), [['a', '', 'c']], 'an empty middle field');
  t.same(rowsOf(',b\n'), [['', 'b']], 'an empty first field');
  t.same(rowsOf('a,\n'), [['a', '']], 'an empty last field');
  t.same(rowsOf('a,'), [['a', '']], 'an empty last field, no line end');
  t.same(rowsOf(',\n'), [['', '']], 'a line of one comma is two empty fields, not an empty line');
  t.end();
});

t.test('lines: the line each row starts on', (t) => {
  const linesOf = (text: string): number[] => {
    const r = parseCsv(text);
    if (!r.ok) throw new Error(r.problem);
    t.equal(r.lines.length, r.rows.length, `one line per row of ${JSON.stringify(text)}`);
    return r.lines;
  };
  t.same(linesOf('a\nb\nc'), [1, 2, 3]);
  t.same(linesOf('\r\na\r\n\r\n\r\nb\r\n'), [2, 5], 'blank lines are skipped but counted');
  t.same(linesOf('a,"x\ny\nz"\nb\n"p\r\nq"\nc'), [1, 4, 5, 7], 'a quoted field spanning lines');
  t.same(linesOf('\uFEFFa\nb'), [1, 2], 'after a byte-order mark');
  t.same(linesOf(''), []);
  t.end();
});

t.test('an unclosed quote is a problem naming the line it opened on', (t) => {
  t.match(problemOf('"abc'), /\bline 1\b/);
  t.match(problemOf('a,b\nc,"d\n'), /\bline 2\b/);
  t.match(problemOf('a\r\n\r\nb\r\n"x,y\r\nz\r\nw'), /\bline 4\b/, 'blank lines and CRLF counted');
  t.match(problemOf('"a\nb",c\n"open\nmore\n'), /\bline 3\b/, 'line breaks inside an earlier quoted field are counted');
  t.match(problemOf('ok\n"""'), /\bline 2\b/, 'an escaped quote does not close it');
  t.match(problemOf('\uFEFF"'), /\bline 1\b/, 'after a byte-order mark');
  t.end();
});

// Cells from a small alphabet that is mostly the characters CSV treats specially.
const special = fc.constantFrom(',', '"', '\r', '\n', ' ', 'a', 'Z', '1', '0', 'é', '€', '😀', "'", '=', '@', '+', '-', '\t', '\uFEFF');
const cellText = fc.oneof(
  fc.string({ unit: special, maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

/** Cells csvCell writes as they are: no formula-like start (it would prefix an apostrophe). */
const FORMULA_START = /^([=@\t\r]|[+-][^0-9])/;
// A BOM at the very start of the text is dropped by parseCsv, so the first cell may not start with one.
const BOM_START = /^\uFEFF/;

/** Rows that survive a round trip: at least one cell, and not a single empty cell (an empty line). */
function rowsArb(cell: fc.Arbitrary<string>): fc.Arbitrary<string[][]> {
  return fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { maxLength: 8 })
    .filter((rows) => rows.every((r) => !(r.length === 1 && r[0] === '')))
    .filter((rows) => rows.length === 0 || !BOM_START.test(rows[0][0]));
}

const write = (rows: string[][], end: string): string => rows.map((r) => r.map(csvCell).join(',')).join(end);

t.test('property: rows written with csvCell and CRLF read back the same', (t) => {
  const safeCell = cellText.filter((s) => !FORMULA_START.test(s));
  const out = fc.check(fc.property(rowsArb(safeCell), fc.boolean(), (rows, trailing) => {
    const text = write(rows, '\r\n') + (trailing && rows.length ? '\r\n' : '');
    const r = parseCsv(text);
    // every row starts on the line after the previous row's last line break
    const starts = rows.map((_, i) => 1 + rows.slice(0, i).reduce((n, row) => n + 1 + row.join('').split('\n').length - 1, 0));
    return r.ok && JSON.stringify(r.rows) === JSON.stringify(rows) && JSON.stringify(r.lines) === JSON.stringify(starts);
  }), { seed: 11, numRuns: 2000 });
  t.equal(out.failed, false, fc.defaultReportMessage(out) ?? '2000 random tables');
  t.end();
});

t.test('property: with LF line ends and a BOM too', (t) => {
  const safeCell = cellText.filter((s) => !FORMULA_START.test(s));
  const out = fc.check(fc.property(rowsArb(safeCell), (rows) => {
    const r = parseCsv('\uFEFF' + write(rows, '\n'));
    return r.ok && JSON.stringify(r.rows) === JSON.stringify(rows);
  }), { seed: 12, numRuns: 1000 });
  t.equal(out.failed, false, fc.defaultReportMessage(out) ?? '1000 random tables');
  t.end();
});

t.test('property: formula-like cells read back with the apostrophe csvCell put there, nothing else changed', (t) => {
  const out = fc.check(fc.property(rowsArb(cellText), (rows) => {
    const r = parseCsv(write(rows, '\r\n'));
    if (!r.ok || r.rows.length !== rows.length) return false;
    return rows.every((row, i) => row.length === r.rows[i].length
      && row.every((cell, j) => r.rows[i][j] === (FORMULA_START.test(cell) ? `'${cell}` : cell)));
  }), { seed: 13, numRuns: 2000 });
  t.equal(out.failed, false, fc.defaultReportMessage(out) ?? '2000 random tables');
  t.end();
});

t.test('the apostrophe prefix, by example', (t) => {
  t.same(rowsOf(['=SUM(A1)', '+x', '+442071234567', '-1', '@x', '-', "'already"].map(csvCell).join(',')), [["'=SUM(A1)", "'+x", '+442071234567', '-1', "'@x", '-', "'already"]]);
  t.end();
});
