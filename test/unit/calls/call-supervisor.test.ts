import t from 'tap';
import { CallManager } from '../../../src/calls/call-manager.js';
import { CallSupervisor, type SupervisorDeps } from '../../../src/calls/call-supervisor.js';
import type { ChannelPort } from '../../../src/calls/ports.js';
import type { CallRecord } from '../../../src/calls/call-record.js';
import { ManualClock } from '../../../src/clock.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { FakeChannel, FakeLeg, tick } from '../../helpers/fake-channel.js';

function setup(maxConcurrent = 10, leg: FakeLeg | null = null) {
  const records: CallRecord[] = [];
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  const calls = new CallManager({ maxConcurrent, logger: silentLogger(), metrics, clock, records: { write: async (r) => { records.push(r); } } });
  const sipHangups: string[] = [];
  const kills: string[] = [];
  const deps: SupervisorDeps = {
    calls, logger: silentLogger(), metrics, clock, hasBot: (n: string) => n === 'support', makeBotLeg: () => leg,
    hangupSip: (id, cause) => { sipHangups.push(`${id} ${cause}`); },
    killChannel: (uuid, cause) => { kills.push(`${uuid} ${cause}`); },
    socketWaitMs: 5000,
  };
  return { records, metrics, clock, calls, deps, sipHangups, kills };
}

/** A dialplan-triggered call: the channel arrives on the outbound socket. */
async function runDialplanCall(ch: ChannelPort, names: string[], deps: SupervisorDeps) {
  const s = await CallSupervisor.fromChannel(ch, names, deps);
  return s ? s.call : null;
}
const VARS = { fsbridge_bot: 'support', fsbridge_param_lang: 'hi', fsbridge_param_plan: 'gold' };

t.test('answered call hung up by the caller leaves one record with the caller as ender', async (t) => {
  const { records, calls, deps, clock } = setup();
  const ch = new FakeChannel('u1', VARS);
  const call = await runDialplanCall(ch, Object.keys(VARS), deps);
  t.ok(call);
  t.equal(call!.state, 'answered');
  t.same(call!.init.params, { lang: 'hi', plan: 'gold' });
  t.equal(calls.size, 1);
  clock.advance(5000);
  ch.fsGone('NORMAL_CLEARING');
  ch.fsGone('NORMAL_CLEARING'); // a second report changes nothing
  await tick();
  t.equal(records.length, 1);
  t.match(records[0], { fsUuid: 'u1', cause: 'NORMAL_CLEARING', causeCode: 16, endedBy: 'caller', direction: 'inbound', bot: 'support', billableMs: 5000 });
  t.equal(calls.size, 0);
});

t.test('unknown bot: hung up with NO_ROUTE_DESTINATION, record says fsbridge', async (t) => {
  const { records, metrics, deps } = setup();
  const ch = new FakeChannel('u2', { fsbridge_bot: 'nosuch' });
  await runDialplanCall(ch, ['fsbridge_bot'], deps);
  await tick();
  t.same(ch.hangups, ['NO_ROUTE_DESTINATION']);
  t.equal(ch.answered, 0);
  t.equal(records.length, 1);
  t.match(records[0], { cause: 'NO_ROUTE_DESTINATION', causeCode: 3, endedBy: 'fsbridge', errorCode: 'CALL_UNKNOWN_BOT' });
  t.equal(metrics.errorCount('CALL_UNKNOWN_BOT'), 1);
});

t.test('over capacity: refused with congestion, one record, counted', async (t) => {
  const { records, metrics, deps } = setup(1);
  const a = new FakeChannel('a', VARS);
  const b = new FakeChannel('b', VARS);
  await runDialplanCall(a, Object.keys(VARS), deps);
  const res = await runDialplanCall(b, Object.keys(VARS), deps);
  t.equal(res, null);
  t.same(b.hangups, ['NORMAL_CIRCUIT_CONGESTION']);
  t.equal(metrics.errorCount('CALL_OVER_CAPACITY'), 1);
  await tick();
  t.equal(records.length, 1, 'the refused channel leaves one record');
  t.match(records[0], { fsUuid: 'b', endedBy: 'fsbridge', cause: 'NORMAL_CIRCUIT_CONGESTION', causeCode: 34, errorCode: 'CALL_OVER_CAPACITY', answeredAt: null });
});

t.test('answer failure ends the call with a record and an error code', async (t) => {
  const { records, deps } = setup();
  const ch = new FakeChannel('u3', VARS);
  ch.answerError = Object.assign(new Error('timeout'), { code: 'ESL_COMMAND_TIMEOUT' });
  await runDialplanCall(ch, Object.keys(VARS), deps);
  await tick();
  t.match(records[0], { endedBy: 'fsbridge', errorCode: 'CALL_ANSWER_FAILED', answeredAt: null });
});

t.test('bot leg: connected, dtmf relayed, bot ends the call with NORMAL_CLEARING', async (t) => {
  const leg = new FakeLeg();
  const { records, deps } = setup(10, leg);
  const ch = new FakeChannel('u4', VARS);
  const call = await runDialplanCall(ch, Object.keys(VARS), deps);
  t.equal(call!.state, 'connected');
  ch.pressDtmf('5');
  t.same(leg.digits, ['5']);
  leg.botEnds();
  await tick(); await tick();
  t.same(ch.hangups, ['NORMAL_CLEARING']);
  t.match(records[0], { endedBy: 'bot', cause: 'NORMAL_CLEARING' });
  t.equal(leg.stopped >= 1, true);
});

t.test('caller hangs up while the bot side is connected: leg stopped, caller recorded', async (t) => {
  const leg = new FakeLeg();
  const { records, deps } = setup(10, leg);
  const ch = new FakeChannel('u5', VARS);
  await runDialplanCall(ch, Object.keys(VARS), deps);
  ch.fsGone('NORMAL_CLEARING');
  await tick();
  t.equal(leg.stopped, 1);
  t.match(records[0], { endedBy: 'caller' });
});

t.test('API end and draining', async (t) => {
  const { records, calls, deps } = setup();
  const ch = new FakeChannel('u6', VARS);
  const call = await runDialplanCall(ch, Object.keys(VARS), deps);
  const idle = calls.waitIdle(1000);
  t.equal(await call!.end('api'), true);
  t.equal(await call!.end('api'), false, 'second end is a no-op');
  await tick();
  t.equal(await idle, true);
  t.match(records[0], { endedBy: 'api', cause: 'NORMAL_CLEARING' });
  calls.startDraining();
  const res = await runDialplanCall(new FakeChannel('u7', VARS), Object.keys(VARS), deps);
  t.equal(res, null);
});

t.test('a throwing listener is contained', async (t) => {
  const { records, metrics, deps } = setup();
  const ch = new FakeChannel('u8', VARS);
  const call = await runDialplanCall(ch, Object.keys(VARS), deps);
  call!.on('ended', () => { throw new Error('boom'); });
  ch.fsGone();
  await tick();
  t.equal(records.length, 1);
  t.equal(metrics.errorCount('CALL_LISTENER_THREW'), 1);
});

t.test('the bot transfers: bot released and stream detached before uuid_transfer; record says transferred', async (t) => {
  const leg = new FakeLeg();
  const { records, deps } = setup(10, leg);
  const ch = new FakeChannel('tx', VARS);
  await runDialplanCall(ch, Object.keys(VARS), deps);
  t.same(ch.vars_set, ['playback_terminators=none'], 'a caller\'s * does not cut the bot\'s audio');
  leg.botTransfers('support-desk');
  await tick();
  t.same(ch.transfers, ['support-desk']);
  t.equal(leg.detached, 1, 'stream detached and bot released (stop with detachStream)');
  t.same(ch.hangups, [], 'the channel is not hung up');
  t.equal(ch.released, 1, 'the socket is let go once the channel left');
  t.equal(records.length, 1);
  t.match(records[0], { endedBy: 'bot', cause: 'NORMAL_CLEARING', result: 'transferred', transferTarget: 'support-desk' });
});

t.test('a refused transfer hangs the call up, the record says so', async (t) => {
  const leg = new FakeLeg();
  const { records, metrics, deps } = setup(10, leg);
  const ch = new FakeChannel('tx2', VARS);
  ch.transferOk = false;
  await runDialplanCall(ch, Object.keys(VARS), deps);
  leg.botTransfers('nowhere');
  await tick();
  t.same(ch.hangups, ['NORMAL_TEMPORARY_FAILURE']);
  t.equal(metrics.errorCount('CALL_TRANSFER_FAILED'), 1);
  t.match(records[0], { endedBy: 'bot', result: 'transfer-failed', transferTarget: 'nowhere' });
});

t.test('the channel leaves fsbridge\'s control (transferred by someone else): bot released, record by freeswitch', async (t) => {
  const leg = new FakeLeg();
  const { records, metrics, deps } = setup(10, leg);
  const ch = new FakeChannel('left', VARS);
  await runDialplanCall(ch, Object.keys(VARS), deps);
  ch.fsLeft();
  await tick();
  t.equal(leg.detached, 1);
  t.equal(ch.released, 1);
  t.same(ch.hangups, []);
  t.equal(metrics.errorCount('CALL_CHANNEL_LEFT'), 1);
  t.match(records[0], { endedBy: 'freeswitch', cause: 'NORMAL_CLEARING', errorCode: 'CALL_CHANNEL_LEFT' });
});

t.test('the caller hangs up while the transfer releases the bot: no transfer, the record does not say transferred', async (t) => {
  const leg = new FakeLeg();
  const { records, deps } = setup(10, leg);
  const ch = new FakeChannel('tx3', VARS);
  await runDialplanCall(ch, Object.keys(VARS), deps);
  leg.stop = async () => { ch.fsGone('NORMAL_CLEARING'); };
  leg.botTransfers('elsewhere');
  await tick();
  t.same(ch.transfers, [], 'uuid_transfer not sent for a channel that is gone');
  t.equal(records.length, 1);
  t.match(records[0], { endedBy: 'bot', transferTarget: 'elsewhere' });
  t.notOk(records[0].result, 'no result: the transfer never happened');
});

const SIP = { fsUuid: '', direction: 'outbound' as const, bot: 'support', from: '+15550001', to: '+15550002', params: {} };

t.test('outbound: API hang-up while the callee rings cancels the dial and records the API, once', async (t) => {
  const { records, deps, sipHangups, calls } = setup();
  const adm = CallSupervisor.admit({ ...SIP, callId: 'o1' }, deps);
  if (!adm.ok) throw new Error('not admitted');
  t.equal(calls.size, 1, 'a ringing call is a live call');
  t.equal(await adm.supervisor.call.end('api'), true);
  t.same(sipHangups, ['o1 NORMAL_CLEARING'], 'the dial is cancelled');
  adm.supervisor.dialSettled({ ok: false, endedBy: 'fsbridge', cause: 'NORMAL_CLEARING', result: 'failed', errorCode: 'SIP_DIAL_CANCELLED' });
  await tick();
  t.equal(records.length, 1);
  t.match(records[0], { callId: 'o1', endedBy: 'api', cause: 'NORMAL_CLEARING', answeredAt: null });
  t.equal(calls.size, 0);
});

t.test('outbound: busy before any channel: one record by the callee with the SIP status', async (t) => {
  const { records, deps } = setup();
  const adm = CallSupervisor.admit({ ...SIP, callId: 'o2' }, deps);
  if (!adm.ok) throw new Error('not admitted');
  adm.supervisor.sipEnded({ by: 'callee', cause: 'USER_BUSY', sipStatus: 486 }); // the dial's result says it
  adm.supervisor.dialSettled({ ok: false, endedBy: 'callee', cause: 'USER_BUSY', sipStatus: 486, result: 'busy' });
  await tick();
  t.equal(records.length, 1);
  t.match(records[0], { endedBy: 'callee', cause: 'USER_BUSY', sipStatus: 486, result: 'busy' });
});

t.test('outbound: answered but the socket never comes: both legs ended after socketWaitMs, CALL_SOCKET_NOT_REACHED', async (t) => {
  const { records, deps, clock, sipHangups, kills, metrics } = setup();
  const adm = CallSupervisor.admit({ ...SIP, callId: 'o3' }, deps);
  if (!adm.ok) throw new Error('not admitted');
  adm.supervisor.dialSettled({ ok: true, fsUuid: 'fs-o3' });
  clock.advance(4999);
  t.equal(records.length, 0);
  clock.advance(1);
  await tick();
  t.same(sipHangups, ['o3 NORMAL_TEMPORARY_FAILURE']);
  t.same(kills, ['fs-o3 NORMAL_TEMPORARY_FAILURE']);
  t.equal(metrics.errorCount('CALL_SOCKET_NOT_REACHED'), 1);
  t.match(records[0], { endedBy: 'fsbridge', errorCode: 'CALL_SOCKET_NOT_REACHED', result: 'answered' });
});

t.test('outbound: answered, socket arrives: the bot starts, the wait timer is cancelled; the callee\'s BYE ends it', async (t) => {
  const leg = new FakeLeg();
  const { records, deps, clock, metrics } = setup(10, leg);
  const adm = CallSupervisor.admit({ ...SIP, callId: 'o4' }, deps);
  if (!adm.ok) throw new Error('not admitted');
  adm.supervisor.dialSettled({ ok: true, fsUuid: 'fs-o4' });
  const ch = new FakeChannel('fs-o4', VARS);
  await adm.supervisor.attachChannel(ch);
  t.equal(adm.supervisor.call.state, 'connected');
  clock.advance(60_000);
  t.equal(metrics.errorCount('CALL_SOCKET_NOT_REACHED'), 0, 'no socket-wait timeout once the socket came');
  adm.supervisor.sipEnded({ by: 'callee', cause: 'NORMAL_CLEARING' });
  await tick(); await tick();
  t.same(ch.hangups, ['NORMAL_CLEARING']);
  t.equal(leg.stopped, 1);
  t.match(records[0], { callId: 'o4', fsUuid: 'fs-o4', endedBy: 'callee', result: 'answered' });
});

t.test('the FreeSWITCH side of a SIP call ends first: the trunk leg gets BYE', async (t) => {
  const { records, deps, sipHangups } = setup(10, new FakeLeg());
  const adm = CallSupervisor.admit({ ...SIP, direction: 'inbound', callId: 'i1' }, deps);
  if (!adm.ok) throw new Error('not admitted');
  const ch = new FakeChannel('fs-i1', VARS);
  await adm.supervisor.attachChannel(ch);
  ch.fsGone('NORMAL_CLEARING');
  await tick();
  t.same(sipHangups, ['i1 NORMAL_CLEARING']);
  t.match(records[0], { endedBy: 'caller', fsUuid: 'fs-i1' });
});

t.test('the caller hangs up while the bot leg starts: the leg is stopped once started, nothing stays open', async (t) => {
  const leg = new FakeLeg();
  const { records, deps } = setup(10, leg);
  const ch = new FakeChannel('u-race', VARS);
  leg.start = async () => { ch.fsGone('NORMAL_CLEARING'); leg.started++; };
  await runDialplanCall(ch, Object.keys(VARS), deps);
  await tick();
  t.equal(leg.started, 1);
  t.ok(leg.stopped >= 1, 'stopped after its start resolved');
  t.match(records[0], { endedBy: 'caller', connectedAt: null });
});

t.test('a channel that vanished after an ESL reconnect: leg stopped, trunk leg ended, record by freeswitch', async (t) => {
  const leg = new FakeLeg();
  const { records, deps, sipHangups } = setup(10, leg);
  const adm = CallSupervisor.admit({ ...SIP, direction: 'inbound', callId: 'v1' }, deps);
  if (!adm.ok) throw new Error('not admitted');
  await adm.supervisor.attachChannel(new FakeChannel('fs-v1', VARS));
  adm.supervisor.channelVanished();
  adm.supervisor.channelVanished();
  await tick();
  t.equal(leg.stopped, 1);
  t.same(sipHangups, ['v1 NORMAL_TEMPORARY_FAILURE']);
  t.equal(records.length, 1);
  t.match(records[0], { endedBy: 'freeswitch', errorCode: 'CALL_CHANNEL_VANISHED' });
});
