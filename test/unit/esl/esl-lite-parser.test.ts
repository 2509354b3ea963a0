/**
 * Checks esl-lite 3.2.0's own parser (FreeSwitchParser) against the captured bytes. It is correct when
 * each chunk holds whole header terminators, and loses frames when the `\n\n` that ends a header block
 * arrives split over two chunks: it only searches `\n\n` inside the newest chunk. This is why fsbridge
 * feeds esl-lite's command layer from its own parser (src/esl/lite-transport.ts). If a later esl-lite
 * fixes this, the "misparses" test fails and docs/esl-client.md should be revisited.
 */
import t from 'tap';
import { FreeSwitchParser } from 'esl-lite';
import { silentLogger } from '../../../src/observability/logger.js';
import { fixture } from './scripted-fs.js';

async function* chunks(parts: Buffer[]): AsyncIterable<Buffer> { for (const p of parts) yield p; }

async function parse(parts: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  for await (const f of FreeSwitchParser(chunks(parts) as never, silentLogger())) {
    out.push(f instanceof Error ? `error:${f.name}` : `${f.headers.contentType}:${f.body.length}`);
  }
  return out;
}

const stream = fixture('esl/inbound-event-plain.raw').subarray(0, 6000);

t.test('esl-lite parses the capture when it arrives in one chunk', async (t) => {
  const frames = await parse([stream]);
  t.same(frames.slice(0, 3), ['auth/request:0', 'command/reply:0', 'command/reply:0']);
});

t.test('esl-lite misparses when the header terminator is split between chunks', async (t) => {
  const whole = JSON.stringify(await parse([stream]));
  const bad: number[] = [];
  for (let k = 1; k < stream.length; k++) {
    if (JSON.stringify(await parse([stream.subarray(0, k), stream.subarray(k)])) !== whole) bad.push(k);
  }
  // Offset 27 is between the two LFs of `Content-Type: auth/request\n\n`: the auth request is merged
  // into the next frame and lost, so a real client would never send `auth`.
  t.ok(bad.includes(27), 'split after "Content-Type: auth/request\\n" loses the auth request');
  const split27 = await parse([stream.subarray(0, 27), stream.subarray(27)]);
  t.not(split27[0], 'auth/request:0');
  // Every failing offset is exactly between the two LFs of a header terminator.
  t.ok(bad.every((k) => stream[k - 1] === 0x0a && stream[k] === 0x0a), `failing offsets ${bad.join(',')}`);
});

t.test('over TCP: esl-lite\'s own client never authenticates when auth/request is split between its LFs', async (t) => {
  const { createServer } = await import('node:net');
  const { FreeSwitchClient } = await import('esl-lite');
  const received: string[] = [];
  const server = createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d) => received.push(d.toString()));
    s.write('Content-Type: auth/request\n');
    // A pause only to make the two writes arrive as separate reads; nothing here measures time.
    setTimeout(() => s.write('\nContent-Type: command/reply\nReply-Text: +OK\n\n'), 100);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client = new FreeSwitchClient({ host: '127.0.0.1', port, password: 'ClueCon', logger: silentLogger() });
  t.teardown(async () => {
    client.end();
    await new Promise<void>((r) => server.close(() => r()));
  });
  for (let i = 0; i < 400 && client.stats.commandReply + client.stats.authRequest === 0n; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(client.stats.authRequest, 0n, 'the auth/request frame was swallowed');
  t.equal(client.stats.commandReply, 1n, 'the merged block was taken for a command reply');
  t.notOk(received.join('').includes('auth ClueCon'), 'auth never sent');
});
