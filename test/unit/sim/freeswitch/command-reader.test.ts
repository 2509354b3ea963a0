import t from 'tap';
import { CommandReader, MAX_CONTENT_LENGTH, type EslCommand } from '../../../../src/sim/freeswitch/command-reader.js';

const INPUT = Buffer.from(
  '\r\n\nauth ClueCon\n\n'
  + 'api status\r\n\r\n'
  + 'sendmsg 1234\ncall-command: execute\nexecute-app-name:  playback\nnot a header\ncontent-type: text/plain\nContent-Length: 5\n\nab\n\nc'
  + 'event plain ALL\n\r\n'
  + 'sendevent CUSTOM\nEvent-Subclass: a::b\nX-Colon: a:b: c\n\n',
);

function readAll(chunks: Buffer[]): (EslCommand | 'drop')[] {
  const r = new CommandReader();
  const out: (EslCommand | 'drop')[] = [];
  for (const c of chunks) {
    r.push(c);
    for (let n = 0; n < 100; n++) {
      const x = r.next();
      if (x === undefined) break;
      out.push(x);
      if (x === 'drop') return out;
    }
  }
  return out;
}

const simple = (cmds: (EslCommand | 'drop')[]): unknown =>
  cmds.map((c) => (c === 'drop' ? 'drop' : { line: c.line, headers: c.headers, body: c.body?.toString('latin1') }));

t.test('pipelined commands, CR ignored, leading CR/LF skipped, body by Content-Length', async (t) => {
  const got = simple(readAll([INPUT]));
  t.same(got, [
    { line: 'auth ClueCon', headers: [], body: undefined },
    { line: 'api status', headers: [], body: undefined },
    {
      line: 'sendmsg 1234',
      headers: [['call-command', 'execute'], ['execute-app-name', 'playback'], ['content-type', 'text/plain'], ['Content-Length', '5']],
      body: 'ab\n\nc',
    },
    { line: 'event plain ALL', headers: [], body: undefined },
    { line: 'sendevent CUSTOM', headers: [['Event-Subclass', 'a::b'], ['X-Colon', 'a:b: c']], body: undefined },
  ]);
});

t.test('same result when split at every byte offset (and at every pair of offsets)', async (t) => {
  const whole = simple(readAll([INPUT]));
  for (let i = 1; i < INPUT.length; i++) {
    t.same(simple(readAll([INPUT.subarray(0, i), INPUT.subarray(i)])), whole, `split at ${i}`);
  }
  const bytes = Array.from(INPUT, (b) => Buffer.from([b]));
  t.same(simple(readAll(bytes)), whole, 'one byte at a time');
});

t.test('hasPartial: only CR/LF buffered is not partial', async (t) => {
  const r = new CommandReader();
  r.push(Buffer.from('\r\n'));
  t.equal(r.hasPartial(), false);
  r.push(Buffer.from('api'));
  t.equal(r.hasPartial(), true);
  t.equal(r.next(), undefined);
  r.push(Buffer.from(' x\n'));
  t.equal(r.next(), undefined);
  r.push(Buffer.from('\n'));
  const c = r.next();
  t.equal(c !== 'drop' && c?.line, 'api x');
  t.equal(r.hasPartial(), false);
});

t.test('negative or > 16 MiB Content-Length drops the connection', async (t) => {
  t.same(simple(readAll([Buffer.from('sendevent X\nContent-Length: -1\n\n')])), ['drop']);
  t.same(simple(readAll([Buffer.from(`sendevent X\ncontent-length: ${MAX_CONTENT_LENGTH + 1}\n\n`)])), ['drop']);
  const ok = readAll([Buffer.from(`sendevent X\nContent-Length: ${MAX_CONTENT_LENGTH}\n\n`)]);
  t.same(ok, [], 'exactly 16 MiB waits for the body');
});
