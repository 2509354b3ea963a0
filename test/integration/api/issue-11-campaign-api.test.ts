// The campaign and DNC API through the real daemon (FreeSWITCH and drachtio twins, SQLite): roles
// and tenants (another tenant's campaign is 404, a viewer cannot write), validation answers,
// a CSV upload of 5,000 contacts (over twice the 64 KiB limit of other routes), pause/resume/cancel
// conflicts, contacts pages, the results export, DNC lists (E.164, the global list, CSV) and
// putting a live call's far end on the list by its Twilio CallSid.
import t, { type Test } from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import { until } from '../../helpers/harness.js';
import { startTwinDaemon } from '../../helpers/twin-daemon.js';

/** A native-protocol bot that asks for the far end to go on the DNC list as soon as its call starts. */
async function dncBot(t: Test): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  t.teardown(() => new Promise<void>((r) => wss.close(() => r())));
  wss.on('connection', (ws) => ws.on('message', (data, binary) => {
    if (!binary && JSON.parse(String(data)).event === 'start') ws.send(JSON.stringify({ event: 'dnc' }));
  }));
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
}

/** Receives status callbacks (JSON). */
async function hookReceiver(t: Test): Promise<{ url: string; hooks: Record<string, unknown>[] }> {
  const hooks: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { hooks.push(JSON.parse(body) as Record<string, unknown>); res.end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hooks };
}

async function setup(t: Test) {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const nativeUrl = await dncBot(t);
  const receiver = await hookReceiver(t);
  const h = await startTwinDaemon(t, `
tenants:
  acme: { statusCallback: { url: "${receiver.url}", format: json, secret: s3cret, events: [completed, campaign] } }
  globex: {}
trunks:
  - { name: acme-trunk, registrar: "sip:127.0.0.1:9", register: false, tenant: acme }
  - { name: globex-trunk, registrar: "sip:127.0.0.1:9", register: false, tenant: globex }
bots:
  acme-bot: { url: "${bot.url}twilio", protocol: twilio, tenant: acme }
  globex-bot: { url: "${bot.url}twilio", protocol: twilio, tenant: globex }
  native-dnc: { url: "${nativeUrl}", protocol: native, tenant: acme }
`);
  const api = (key: string, method: string, path: string, body?: unknown) => h.api(method, path, body, key);
  const key = async (tenant: string, role: string) => (await api('tok', 'POST', '/v1/keys', { tenant, role })).body.key as string;
  return { daemon: h.daemon, fs: h.fs, api, key, ports: h.ports, hooks: receiver.hooks };
}

const spec = (o: Record<string, unknown> = {}) => ({ name: 'c', bot: 'acme-bot', trunk: 'acme-trunk', start: false, ...o });

t.test('campaigns: roles, tenants, validation, upload, control, contacts, export', async (t) => {
  const { api, key, hooks, ports } = await setup(t);
  const operator = await key('acme', 'operator');
  const viewer = await key('acme', 'viewer');
  const other = await key('globex', 'operator');

  const bad = await api(operator, 'POST', '/v1/campaigns', { name: '', bot: 'globex-bot', trunk: 'nope', pacing: { maxConcurrent: 0 }, windows: [{ days: [9], start: '25:00', end: '08:00' }] });
  t.equal(bad.status, 400);
  t.ok(bad.body.error.problems.length >= 4, `every problem is named: ${JSON.stringify(bad.body.error.problems)}`);
  const foreign = await api(operator, 'POST', '/v1/campaigns', spec({ bot: 'globex-bot', trunk: 'globex-trunk' }));
  t.equal(foreign.status, 400, 'another tenant\'s bot and trunk cannot be used');
  t.equal((await api(viewer, 'POST', '/v1/campaigns', spec())).status, 403, 'a viewer cannot create one');

  // a CSV upload far over the 64 KiB of other routes
  const rows = ['number,timeZone,name,plan'];
  for (let i = 0; i < 5000; i++) rows.push(`+1212555${String(i).padStart(4, '0')},${i % 10 === 0 ? 'America/Chicago' : ''},"Name, ${i}",gold`);
  const csv = rows.join('\n');
  t.ok(csv.length > 64 * 1024 * 2, `${csv.length} bytes: over the 64 KiB of other routes`);
  const created = await api(operator, 'POST', '/v1/campaigns', spec({ contactsCsv: csv }));
  t.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
  t.match(created.body, { state: 'paused', contacts: 5000, duplicates: 0 });
  const id = created.body.id as string;

  const got = await api(viewer, 'GET', `/v1/campaigns/${id}`);
  t.equal(got.status, 200, 'a viewer of the tenant reads it');
  t.match(got.body, { id, tenant: 'acme', state: 'paused', contacts: 5000 });
  t.equal((got.body.counts.pending ?? 0) + (got.body.counts.invalid ?? 0), 5000, JSON.stringify(got.body.counts));
  t.equal((await api(other, 'GET', `/v1/campaigns/${id}`)).status, 404, 'another tenant\'s key does not see it');
  t.same((await api(other, 'GET', '/v1/campaigns')).body.campaigns, [], 'nor lists it');
  t.equal((await api(other, 'POST', `/v1/campaigns/${id}/cancel`)).status, 404, 'nor controls it');

  const page = await api(viewer, 'GET', `/v1/campaigns/${id}/contacts?limit=3`);
  t.equal(page.status, 200);
  t.match(page.body.contacts[0], { seq: 0, number: '+12125550000', timeZone: 'America/Chicago', vars: { name: 'Name, 0', plan: 'gold' }, state: 'pending', attempts: [] });
  t.match(page.body.contacts[1], { timeZone: 'America/New_York' }, 'the zone of a contact without one comes from its number');
  t.equal(page.body.next, 2);
  const page2 = await api(viewer, 'GET', `/v1/campaigns/${id}/contacts?limit=2&after=2`);
  t.same(page2.body.contacts.map((c: { seq: number }) => c.seq), [3, 4]);
  t.equal((await api(viewer, 'GET', `/v1/campaigns/${id}/contacts?limit=0`)).status, 400);

  // an erasure request reaches the person's campaign contact (their number and variables)
  const erased = await api(operator, 'DELETE', `/v1/subjects/${encodeURIComponent('+12125550001')}`);
  t.match(erased.body, { erased: { campaignContacts: 1 } }, 'the contact is erased with the person');
  const gone = (await api(viewer, 'GET', `/v1/campaigns/${id}/contacts?after=0&limit=1`)).body.contacts[0];
  t.match(gone, { seq: 1, number: '', vars: {}, state: 'cancelled', outcome: 'erased' }, 'no number, no variables, never called');

  t.equal((await api(viewer, 'POST', `/v1/campaigns/${id}/resume`)).status, 403, 'a viewer cannot control it');
  t.equal((await api(operator, 'POST', `/v1/campaigns/${id}/pause`)).status, 409, 'pausing a paused campaign is a conflict');
  const cancelled = await api(operator, 'POST', `/v1/campaigns/${id}/cancel`);
  t.equal(cancelled.status, 200);
  t.match(cancelled.body, { state: 'cancelled', counts: { cancelled: 5000 - (cancelled.body.counts.invalid ?? 0) } });
  t.equal((await api(operator, 'POST', `/v1/campaigns/${id}/resume`)).status, 409, 'a cancelled campaign cannot be resumed');

  const exported = await api(viewer, 'GET', `/v1/campaigns/${id}/export`);
  t.equal(exported.status, 200);
  const lines = String(exported.body).trim().split('\r\n');
  t.equal(lines[0], 'contact,number,contactState,contactOutcome,attempt,callId,outcome,startedAt,endedAt,sipStatus,callCause,callEndedBy,callDurationMs');
  t.equal(lines.length, 5001, 'one row per contact never dialled');
  t.match(lines[1], /^0,\+12125550000,cancelled,cancelled,/);
  await until(() => hooks.some((h) => h.event === 'campaign.cancelled'), 15_000, 'the campaign.cancelled callback');
  t.match(hooks.find((h) => h.event === 'campaign.cancelled'), { campaignId: id, tenant: 'acme' }, 'campaign events reach the tenant\'s statusCallback');
  const metrics = await (await fetch(`http://127.0.0.1:${ports.api}/metrics`)).text();
  t.match(metrics, new RegExp(`^fsbridge_campaign_contacts\\{campaign="${id}",state="cancelled",tenant="acme"\\} \\d+$`, 'm'), 'contacts per state are a gauge per campaign');
  const audit = await api('tok', 'GET', '/v1/audit?limit=50');
  t.ok(audit.body.entries.some((e: { action: string }) => e.action === 'POST /v1/campaigns/{id}/cancel'), 'control requests are audited without ids');
  t.ok(audit.body.entries.some((e: { action: string; target: string }) => e.action === 'GET /v1/campaigns/{id}/export' && e.target === id), 'reading the export is audited');
});

t.test('DNC lists: E.164, tenants and the global list, CSV, a live call\'s far end by its CallSid', async (t) => {
  const { api, key, daemon, fs } = await setup(t);
  const operator = await key('acme', 'operator');
  const other = await key('globex', 'operator');
  const viewer = await key('acme', 'viewer');

  const added = await api(operator, 'POST', '/v1/dnc', { numbers: ['(212) 555-0100', '+44 20 7946 0000'], defaultCountry: 'US' });
  t.equal(added.status, 200);
  t.match(added.body, { tenant: 'acme', added: 2 });
  t.match((await api(operator, 'POST', '/v1/dnc', { numbers: ['+12125550100'] })).body, { added: 0, alreadyListed: 1 }, 'the same number, written otherwise, is already there');
  t.equal((await api(operator, 'POST', '/v1/dnc', { numbers: ['hello'] })).status, 400, 'not a number');
  t.equal((await api(operator, 'POST', '/v1/dnc', { numbers: ['+12125550101'], tenant: 'globex' })).status, 400, 'a tenant key cannot write another tenant\'s list');
  t.equal((await api(viewer, 'POST', '/v1/dnc', { numbers: ['+12125550101'] })).status, 403);
  t.match((await api('tok', 'POST', '/v1/dnc', { csv: 'number\n+12125550199\n', tenant: '*' })).body, { tenant: '*', added: 1 }, 'an admin writes the global list from CSV');
  const list = await api(operator, 'GET', '/v1/dnc');
  t.same(list.body.numbers.map((n: { number: string }) => n.number), ['+12125550100', '+442079460000']);
  t.same((await api(other, 'GET', '/v1/dnc')).body.numbers, [], 'each tenant sees its own list');
  const csvList = await api(operator, 'GET', '/v1/dnc?format=csv');
  t.match(csvList.body, /^number,source,addedAt\r\n\+12125550100,api,/);
  t.equal((await api(operator, 'DELETE', `/v1/dnc/${encodeURIComponent('+442079460000')}`)).status, 200);
  t.equal((await api(operator, 'DELETE', `/v1/dnc/${encodeURIComponent('+442079460000')}`)).status, 404);

  // a live call's bot (Twilio protocol) puts its far end on the list by its CallSid
  await fs.api('originate {sim_caller_tone=440,origination_caller_id_number=+12125557001}loopback/bot-acme-bot/default &park');
  await until(() => daemon.calls.list().some((c) => c.state === 'connected'), 5000, 'a connected call');
  const call = daemon.calls.list()[0];
  const { twilioCallSid } = await import('../../../src/bots/sids.js');
  t.equal((await api(other, 'POST', `/v1/calls/${twilioCallSid(call.callId)}/dnc`)).status, 404, 'another tenant\'s key does not find the call');
  const r = await api(operator, 'POST', `/v1/calls/${twilioCallSid(call.callId)}/dnc`);
  t.equal(r.status, 200, JSON.stringify(r.body));
  t.match(r.body, { tenant: call.init.tenant, added: true });
  t.ok((await api('tok', 'GET', `/v1/dnc?tenant=${call.init.tenant}`)).body.numbers.some((n: { number: string; source: string }) => n.number === '+12125557001' && n.source === `call:${call.callId}`),
    'the caller\'s number is on the call\'s tenant\'s list');
  await daemon.endCall(call.callId, 'api');
  await until(() => daemon.calls.size === 0, 5000, 'the call ended');

  // a native bot asks for it with {"event":"dnc"}
  await fs.api('originate {sim_caller_tone=440,origination_caller_id_number=+12125557002}loopback/bot-native-dnc/default &park');
  let listed = false;
  for (let i = 0; i < 100 && !listed; i++) {
    listed = (await api('tok', 'GET', '/v1/dnc?tenant=acme')).body.numbers.some((n: { number: string; source: string }) => n.number === '+12125557002' && n.source.startsWith('bot:'));
    if (!listed) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(listed, 'the native bot\'s dnc put the caller on its tenant\'s list');
  for (const c of daemon.calls.list()) await daemon.endCall(c.callId, 'api');
  await until(() => daemon.calls.size === 0, 5000, 'the call ended');
});
