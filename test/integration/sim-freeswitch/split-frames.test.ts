import t from 'tap';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { RawClient } from './raw-client.js';

const require = createRequire(import.meta.url);
const esl = require('modesl') as any;
const here = dirname(fileURLToPath(import.meta.url));

/** Cut every frame between the two LFs that end its header block, after byte 1 and before the last byte. */
const offsets = (b: Buffer): number[] => {
  const e = b.indexOf('\n\n');
  return [1, e + 1, b.length - 1];
};

t.test('split frames: bytes identical, delivered in pieces; modesl still works', async (t) => {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan'), splitFrames: { offsets, gapMs: 5 } });
  await tw.start();
  t.teardown(() => tw.close());
  const c = await RawClient.open(tw.port);
  t.teardown(() => c.close());
  await c.waitFrames(1);
  c.send('auth ClueCon\n\napi uuid_exists x\n\n');
  await c.waitFrames(3);
  t.equal(Buffer.concat(c.bytes).toString(),
    'Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: +OK accepted\n\nContent-Type: api/response\nContent-Length: 5\n\nfalse');
  t.ok(c.bytes.length >= 6, `arrived in ${c.bytes.length} chunks`);
  t.ok(c.bytes.some((b) => b.toString() === '\n' || b.toString().startsWith('\n')), 'a chunk starts at the second LF');

  const m = await new Promise<any>((resolve) => { const x = new esl.Connection('127.0.0.1', tw.port, 'ClueCon', () => resolve(x)); });
  t.teardown(() => m.disconnect());
  const res: any = await new Promise((r) => m.api('module_exists', 'mod_sofia', r));
  t.equal(res.getBody(), 'true');
});

t.test('close(): shutdown notice to connected clients', async (t) => {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan') });
  await tw.start();
  const c = await RawClient.open(tw.port);
  t.teardown(() => c.close());
  await c.waitFrames(1);
  c.send('auth ClueCon\n\n');
  await c.waitFrames(2);
  await tw.originate('loopback/9999/default &park');
  t.equal(tw.channels().length, 2);
  await tw.close();
  await c.waitEnd();
  t.equal(c.frames[2].raw.toString(), 'Content-Type: text/disconnect-notice\nContent-Length: 31\n\nThe system is being shut down.\n');
  await tw.close();
});
