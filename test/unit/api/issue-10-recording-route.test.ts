// Issue 10: GET /v1/calls/{id}/recording streams a long recording with back-pressure: every byte
// arrives, in order, and waiting for the socket to drain leaves no listener behind (an hour-long
// recording waits thousands of times).
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendRecording } from '../../../src/api/recording-route.js';
import type { CallRoutesBackend } from '../../../src/api/call-routes.js';
import { until } from '../../helpers/harness.js';

const CHUNK = 32_000;
const CHUNKS = 300; // 5 minutes of 8 kHz stereo

t.test('a long recording, read slowly', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  t.teardown(() => { process.off('warning', onWarning); });
  const backend: CallRoutesBackend = {
    listCalls: async () => ({ calls: [], nextCursor: null }),
    exportCalls: async function* () { /* none */ },
    getCall: async () => ({ callId: 'c1', tenant: 'acme' }),
  };
  async function* audio(): AsyncGenerator<Buffer> {
    for (let i = 0; i < CHUNKS; i++) yield Buffer.alloc(CHUNK, i % 251);
  }
  let closeListeners = -1;
  let fullWrites = 0;
  const server = createServer((req, res) => {
    const write = res.write.bind(res) as (chunk: Buffer) => boolean;
    res.write = ((chunk: Buffer) => { const ok = write(chunk); if (!ok) fullWrites++; return ok; }) as typeof res.write;
    void sendRecording(res, 'c1', { keyId: 'k', role: 'viewer', tenant: 'acme' }, backend,
      async () => ({ ok: true, rateHz: 8000, plainBytes: CHUNK * CHUNKS, complete: true, audio: audio() }),
      () => { throw new Error('not expected'); }).then(() => { closeListeners = res.listenerCount('close'); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  t.equal(r.status, 200);
  const reader = r.body!.getReader();
  let got = 0;
  let bad = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let i = 0; i < value.length; i++) {
      const at = got + i - 44;
      if (at >= 0 && value[i] !== Math.floor(at / CHUNK) % 251) bad++;
    }
    got += value.length;
    await new Promise((ok) => setImmediate(ok)); // a slow reader: the server has to wait for drains
  }
  t.equal(got, 44 + CHUNK * CHUNKS, 'the WAV header and every byte of audio');
  t.equal(bad, 0, 'in order');
  await until(() => closeListeners >= 0, 5000, 'the route done');
  t.ok(fullWrites > 10, `the socket was full ${fullWrites} times: the route waited for it to drain`);
  t.ok(closeListeners >= 0 && closeListeners <= 2, `no listener left per wait (${closeListeners} 'close' listeners at the end)`);
  t.same(warnings.filter((w) => w === 'MaxListenersExceededWarning'), [], 'no listener leak warning');
});
