// Issue 10, recordings, through the daemon and the FreeSWITCH twin: a bot's calls recorded while
// they run (caller left, bot right), encrypted on disk, streamed back as a WAV to keys of the
// call's tenant only, cut short and flagged when the file was altered, and removed with their row
// by an erasure. SQLite and a real PostgreSQL; media in a worker thread ('pipe') and in the main
// thread ('file').
import t, { type Test } from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness, until, type Harness } from '../../helpers/harness.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import { eachBackend } from '../../helpers/store-backends.js';
import { aperiodicSignal, describeDelays, echoDelays, medianNcc, parseStereoWav, rms, writeWav } from '../../../bench/lib/recording.js';
import { clearRuns, filesUnder } from '../../helpers/recordings.js';

const MASTER = 'a'.repeat(64);
const CALLER = '+15550007';

/**
 * The caller's channel is what the caller said (each 0.5 s window of it found in the signal: the
 * recording starts a little after the caller), the bot's is the echo of the caller's (each window
 * of the caller's channel found in it, later). Medians over windows: a frame slipped on a loaded
 * machine costs the windows around it, not the verdict.
 */
function channelsMatch(t: Test, said: Int16Array, left: Int16Array, right: Int16Array): void {
  const caller = echoDelays(left, said);
  const echo = echoDelays(left, right);
  t.ok(caller.length >= 4 && medianNcc(caller) > 0.9, `the left channel is what the caller said (median ncc ${medianNcc(caller).toFixed(3)} over ${caller.length} windows)`);
  t.ok(rms(right) > 500 && echo.length >= 4 && medianNcc(echo) > 0.9, `the right channel is the bot's echo of it (median ncc ${medianNcc(echo).toFixed(3)}; ${describeDelays(echo.slice(0, 3))} …)`);
}

async function setup(t: Test, o: { storeUrl?: string; password?: string; playback: 'pipe' | 'file'; workers: number }) {
  const echo = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => echo.close());
  const h: Harness = await startHarness(`  acme-bot: { url: "${echo.url}twilio", protocol: twilio, tenant: acme, record: true }
  globex-bot: { url: "${echo.url}twilio", protocol: twilio, tenant: globex }`, {
    playback: o.playback, workers: o.workers,
    extraYaml: `tenants:\n  acme: {}\n  globex: {}\nrecordings: { dir: ${JSON.stringify(join(t.testdir(), 'rec'))}, masterKey: env:MK }\n`,
    env: { MK: MASTER, ...(o.password ? { PGPW: o.password } : {}) },
    ...(o.storeUrl ? { storeUrl: o.storeUrl } : {}), ...(o.password ? { storeYaml: 'password: env:PGPW' } : {}),
  });
  t.teardown(() => h.close());
  const said = aperiodicSignal(3);
  const wav = join(h.dir, 'caller.wav');
  writeWav(wav, said);
  const api = async (key: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`http://127.0.0.1:${h.daemon.ports.api}${path}`, {
      method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return r;
  };
  /** A call of `bot` that says the signal and hangs up 1 s after it; resolves its record. */
  const call = async (bot: string, extension = 'bot-') => {
    const heard = echo.stats.audioMessagesIn;
    const c = await h.call(bot, [`sim_caller_audio=${wav}`, `origination_caller_id_number=${CALLER}`], extension);
    await until(() => c.call.state === 'connected', 5000, 'connected');
    // the 3 s said and 1 s more reached the bot (20 ms a message)
    await until(() => echo.stats.audioMessagesIn - heard >= 200, 20_000, '4 s of the caller at the bot');
    await h.twin.api(`uuid_kill ${c.aLeg}`);
    return c.ended;
  };
  return { h, said, api, call, dir: join(t.testdir(), 'rec') };
}

t.test('recording a call, reading it back, erasing it', (t) => eachBackend(t, async (t, b) => {
  const db = await b.fresh(t);
  const { h, said, api, call, dir } = await setup(t, { storeUrl: db.url, password: db.password, playback: 'pipe', workers: 1 });
  const rec = await call('acme-bot');
  const plain = await call('globex-bot');
  let r = await api('test-token', 'GET', `/v1/calls/${rec.callId}/recording`);
  for (let i = 0; i < 100 && r.status === 409; i++) { await new Promise((ok) => setTimeout(ok, 50)); r = await api('test-token', 'GET', `/v1/calls/${rec.callId}/recording`); }
  t.equal(r.status, 200, 'an admin gets the recording');
  t.equal(r.headers.get('content-type'), 'audio/wav');
  t.equal(r.headers.get('x-fsbridge-recording'), 'complete');
  const wav = Buffer.from(await r.arrayBuffer());
  t.equal(Number(r.headers.get('content-length')), wav.length, 'its length is known before it is sent');
  t.equal(wav.subarray(0, 4).toString(), 'RIFF');
  const { left, right, rateHz } = parseStereoWav(wav);
  t.equal(rateHz, 8000, 'stereo (parseStereoWav checks) at 8 kHz');
  t.ok(left.length >= 8000 * 3, `at least what the caller said (${(left.length / 8000).toFixed(2)} s)`);
  channelsMatch(t, said, left, right);

  const onDisk = filesUnder(dir);
  t.equal(onDisk.length, 1, 'one file: the other bot does not record');
  t.match(onDisk[0], new RegExp(`/acme/\\d{4}-\\d{2}-\\d{2}/${rec.callId}\\.fsbrec$`));
  t.equal(statSync(onDisk[0]).mode & 0o777, 0o600);
  const bytes = readFileSync(onDisk[0]);
  t.notOk(bytes.includes(Buffer.from('RIFF')), 'no RIFF header on disk');
  t.equal(clearRuns(bytes, wav.subarray(44)), 0, 'no 16-byte run of the audio is on disk in the clear');

  // tenants and roles
  const key = async (tenant: string, role: string) => ((await (await api('test-token', 'POST', '/v1/keys', { tenant, role })).json()) as { key: string }).key;
  const acmeViewer = await key('acme', 'viewer');
  const globexOperator = await key('globex', 'operator');
  const viewed = await api(acmeViewer, 'GET', `/v1/calls/${rec.callId}/recording`);
  t.equal(viewed.status, 200, 'a viewer of the tenant may listen');
  t.ok(Buffer.from(await viewed.arrayBuffer()).equals(wav), 'the same WAV');
  const other = await api(globexOperator, 'GET', `/v1/calls/${rec.callId}/recording`);
  t.equal(other.status, 404, 'another tenant\'s key: not found, as if there were none');
  t.equal(((await other.json()) as any).error.code, 'API_NOT_FOUND');
  const none = await api('test-token', 'GET', `/v1/calls/${plain.callId}/recording`);
  t.equal(none.status, 404, 'a call that was not recorded');
  t.equal((await api('test-token', 'GET', '/v1/calls/no-such-call/recording')).status, 404);
  const head = await api(acmeViewer, 'HEAD', `/v1/calls/${rec.callId}/recording`);
  t.equal(head.status, 200);
  t.equal(Number(head.headers.get('content-length')), wav.length, 'HEAD gives the length without the audio');

  // audit entries are written through the store's queue: read until both are there
  let heard: Record<string, unknown>[] = [];
  for (let i = 0; i < 50 && heard.length < 2; i++) {
    if (i > 0) await new Promise((ok) => setTimeout(ok, 50));
    const audit = ((await (await api('test-token', 'GET', '/v1/audit?limit=1000')).json()) as { entries: Record<string, unknown>[] }).entries;
    heard = audit.filter((e) => e.action === 'GET /v1/calls/{id}/recording' && e.target === rec.callId && e.role !== 'admin');
  }
  t.ok(heard.some((e) => e.role === 'viewer' && e.tenant === 'acme' && e.status === 200), 'who listened is in the audit log');
  t.ok(heard.some((e) => e.tenant === 'globex' && e.status === 404), 'and who tried');

  // an altered file: the body is cut short at the bad chunk, counted
  const altered = Buffer.from(bytes);
  altered[Math.floor(bytes.length / 2)] ^= 0x40;
  writeFileSync(onDisk[0], altered);
  const cut = await api('test-token', 'GET', `/v1/calls/${rec.callId}/recording`);
  t.equal(cut.status, 200, 'the header was fine, so the answer starts');
  await t.rejects(cut.arrayBuffer(), 'the body is cut short: a client cannot take it for a whole file');
  t.equal(h.daemon.metrics.errorCount('RECORDING_CORRUPT'), 1, 'RECORDING_CORRUPT counted');
  writeFileSync(onDisk[0], bytes);

  // erasure takes the recording with the record
  const erased = await api(globexOperator, 'DELETE', `/v1/subjects/${encodeURIComponent(CALLER)}`);
  t.same(await erased.json(), { erased: { calls: 1, recordings: 0, recordFileLines: 1, campaignContacts: 0 } }, 'the other tenant erases only its own call');
  t.equal(filesUnder(dir).length, 1);
  const acmeErased = await api('test-token', 'DELETE', `/v1/subjects/${encodeURIComponent(CALLER)}?tenant=acme`);
  t.same(await acmeErased.json(), { erased: { calls: 1, recordings: 1, recordFileLines: 1, campaignContacts: 0 } });
  t.same(filesUnder(dir), [], 'the file is gone');
  t.equal((await api('test-token', 'GET', `/v1/calls/${rec.callId}/recording`)).status, 404, 'and the recording with its call');
  t.equal(h.daemon.metrics.errorCount('RECORDING_WRITE_FAILED'), 0);
}));

t.test('file playback, media in the main thread; a dialplan asks for the recording', async (t) => {
  const { said, api, call } = await setup(t, { playback: 'file', workers: 0 });
  // globex-bot does not record; the shipped dialplan's record-<bot> sets fsbridge_record=true
  const rec = await call('globex-bot', 'record-');
  let r = await api('test-token', 'GET', `/v1/calls/${rec.callId}/recording`);
  for (let i = 0; i < 100 && r.status === 409; i++) { await new Promise((ok) => setTimeout(ok, 50)); r = await api('test-token', 'GET', `/v1/calls/${rec.callId}/recording`); }
  t.equal(r.status, 200);
  const { left, right } = parseStereoWav(Buffer.from(await r.arrayBuffer()));
  channelsMatch(t, said, left, right);
});

t.test('POST /v1/calls asking for a recording without a master key', async (t) => {
  const h = await startHarness('  b: { url: "ws://127.0.0.1:9/x", protocol: twilio }');
  t.teardown(() => h.close());
  const r = await fetch(`http://127.0.0.1:${h.daemon.ports.api}/v1/calls`, {
    method: 'POST', headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
    body: JSON.stringify({ to: '+15550009', bot: 'b', trunk: 't', record: true }),
  });
  t.equal(r.status, 400);
  const problems = ((await r.json()) as any).error.problems as string[];
  t.ok(problems.includes('record: recordings.masterKey is not configured, so fsbridge cannot record'), problems.join('; '));
});
