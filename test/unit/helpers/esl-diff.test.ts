import t from 'tap';
import { EslFrameParser, type EslFrame } from '../../../src/esl/frame-parser.js';
import { diffTranscripts, formatDiff, learnLabels, normalise, type Transcript } from '../../helpers/real/esl-diff.js';

/** Frames of a byte string, as the differential test gets them from a socket. */
function frames(text: string): EslFrame[] {
  const r = new EslFrameParser().feed(Buffer.from(text, 'utf8'));
  if (r.error) throw new Error(r.error.detail);
  return r.frames;
}

function eventFrame(headers: Record<string, string>): string {
  const body = JSON.stringify(headers);
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
}

const transcript = (text: string, closedByServer = false): Transcript => ({ frames: frames(text), closedByServer });

const A = '11111111-2222-4333-8444-555555555555';
const B_REAL = '9a0b7c1d-0000-4000-8000-00000000000b';
const B_TWIN = '7f3e2d1c-0000-4000-8000-0000000000bb';

function leg(uuid: string, name: string, event: string, more: Record<string, string> = {}): string {
  return eventFrame({
    'Event-Name': event, 'Core-UUID': uuid === A ? 'c0000000-0000-4000-8000-000000000001' : 'c0000000-0000-4000-8000-000000000002',
    'FreeSWITCH-Hostname': uuid === A ? 'vm' : 'fs-host', 'Event-Date-Local': '2026-12-07 04:05:15',
    'Event-Date-Timestamp': '1796616315123456', 'Event-Sequence': String(Math.floor(Math.random() * 1000)),
    'Unique-ID': uuid, 'Channel-Name': name, ...more,
  });
}

t.test('identical exchanges modulo volatile values give no difference', async (t) => {
  const real = transcript('Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: +OK Job-UUID: 0f34a37a-e6b2-43a6-8f36-0e0d36372560\nJob-UUID: 0f34a37a-e6b2-43a6-8f36-0e0d36372560\n\n'
    + `Content-Type: api/response\nContent-Length: 41\n\n+OK ${A}\n`
    + leg(A, 'loopback/x-a', 'CHANNEL_CREATE', { 'Channel-State': 'CS_INIT' })
    + leg(B_REAL, 'loopback/x-b', 'CHANNEL_CREATE', { 'Channel-State': 'CS_INIT', variable_other_loopback_leg_uuid: A }));
  const twin = transcript('Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: +OK Job-UUID: 4709cb4c-3831-4fd4-8e84-48b782125d7f\nJob-UUID: 4709cb4c-3831-4fd4-8e84-48b782125d7f\n\n'
    + `Content-Type: api/response\nContent-Length: 41\n\n+OK ${A}\n`
    // the legs interleave differently: compared per channel
    + leg(B_TWIN, 'loopback/x-b', 'CHANNEL_CREATE', { 'Channel-State': 'CS_INIT', variable_other_loopback_leg_uuid: A })
    + leg(A, 'loopback/x-a', 'CHANNEL_CREATE', { 'Channel-State': 'CS_INIT' }));
  t.same(diffTranscripts(real, twin), []);
});

t.test('reply texts, header layout, missing frames and the connection are compared', async (t) => {
  const real = transcript('Content-Type: api/response\nContent-Length: 28\n\n-ERR Cannot locate session!\n'
    + 'Content-Type: command/reply\nReply-Text: +OK\n\n', true);
  const twin = transcript('Content-Type: api/response\nContent-Length: 21\n\n-ERR no such session\n');
  const d = diffTranscripts(real, twin);
  t.same(d.map((x) => x.where), ['frame 1 (api/response) body', 'frame 2', 'connection']);
  t.equal(d[0].real, JSON.stringify('-ERR Cannot locate session!\n'));
  t.match(formatDiff('s', d), /^s: 3 difference\(s\), real FreeSWITCH vs twin\n {2}frame 1 \(api\/response\) body\n {4}real: /);
  const layout = diffTranscripts(transcript('Content-Type: command/reply\nReply-Text: +OK\nJob-UUID: x\n\n'), transcript('Content-Type: command/reply\nJob-UUID: x\nReply-Text: +OK\n\n'));
  t.same(layout.map((x) => x.where), ['frame 1 (command/reply) header layout']);
});

t.test('events: order per channel, header-name sets and key values', async (t) => {
  const real = transcript(
    leg(A, 'loopback/x-a', 'CHANNEL_ANSWER', { 'Answer-State': 'answered' })
    + leg(B_REAL, 'loopback/x-b', 'CHANNEL_EXECUTE_COMPLETE', { Application: 'answer', variable_endpoint_disposition: 'ANSWER' })
    + leg(B_REAL, 'loopback/x-b', 'DTMF', { 'DTMF-Digit': '1' }),
  );
  const twin = transcript(
    leg(A, 'loopback/x-a', 'CHANNEL_ANSWER', { 'Answer-State': 'answered', variable_endpoint_disposition: 'ANSWER' })
    + leg(A, 'loopback/x-a', 'DTMF', { 'DTMF-Digit': '1' })
    + leg(B_TWIN, 'loopback/x-b', 'CHANNEL_EXECUTE_COMPLETE', { Application: 'park' }),
  );
  const d = diffTranscripts(real, twin);
  t.same(d.map((x) => x.where), [
    'events of <loopback/x-a>: order',
    'events of <loopback/x-a>: CHANNEL_ANSWER #1 header names',
    'events of <loopback/x-b>: order',
    'events of <loopback/x-b>: CHANNEL_EXECUTE_COMPLETE #1 header names',
    'events of <loopback/x-b>: CHANNEL_EXECUTE_COMPLETE #1 Application',
  ]);
  t.equal(d[1].twin, 'only here: variable_endpoint_disposition');
  t.equal(d[2].real, 'CHANNEL_EXECUTE_COMPLETE → DTMF');
});

t.test('known races of the real program are no difference', async (t) => {
  const answer = (state: string): string => leg(A, 'loopback/x-a', 'CHANNEL_ANSWER', { 'Channel-State': state });
  t.same(diffTranscripts(transcript(answer('CS_ROUTING')), transcript(answer('CS_CONSUME_MEDIA'))), []);
  t.same(diffTranscripts(transcript(answer('CS_INIT')), transcript(answer('CS_CONSUME_MEDIA'))), [], 'answered before its thread left CS_INIT');
  t.equal(diffTranscripts(transcript(answer('CS_ROUTING')), transcript(answer('CS_EXECUTE'))).length, 1);
  // park ended before the leg's CHANNEL_HANGUP (real) or after it (twin)
  const real = transcript(leg(B_REAL, 'loopback/x-b', 'CHANNEL_EXECUTE_COMPLETE', { Application: 'park', 'Answer-State': 'answered' })
    + leg(B_REAL, 'loopback/x-b', 'CHANNEL_HANGUP', { 'Hangup-Cause': 'NORMAL_CLEARING' }));
  const twin = transcript(leg(B_TWIN, 'loopback/x-b', 'CHANNEL_HANGUP', { 'Hangup-Cause': 'NORMAL_CLEARING' })
    + leg(B_TWIN, 'loopback/x-b', 'CHANNEL_EXECUTE_COMPLETE', { Application: 'park', 'Answer-State': 'hangup', 'Hangup-Cause': 'NORMAL_CLEARING' }));
  t.same(diffTranscripts(real, twin), []);
  // an application that ended long before the hang-up is not moved
  const answered = (uuid: string): string => leg(uuid, 'loopback/x-b', 'CHANNEL_EXECUTE_COMPLETE', { Application: 'answer', 'Answer-State': 'answered' });
  const usual = (uuid: string): string => answered(uuid) + leg(uuid, 'loopback/x-b', 'CHANNEL_HANGUP', { 'Hangup-Cause': 'NORMAL_CLEARING' })
    + leg(uuid, 'loopback/x-b', 'CHANNEL_EXECUTE_COMPLETE', { Application: 'park', 'Answer-State': 'hangup', 'Hangup-Cause': 'NORMAL_CLEARING' });
  const raced = answered(B_REAL) + leg(B_REAL, 'loopback/x-b', 'CHANNEL_EXECUTE_COMPLETE', { Application: 'park', 'Answer-State': 'answered' })
    + leg(B_REAL, 'loopback/x-b', 'CHANNEL_HANGUP', { 'Hangup-Cause': 'NORMAL_CLEARING' });
  t.same(diffTranscripts(transcript(raced), transcript(usual(B_TWIN))), []);
  t.same(diffTranscripts(transcript(usual(B_REAL)), transcript(usual(B_TWIN))), []);
});

t.test('a CHANNEL_HANGUP fired after CHANNEL_HANGUP_COMPLETE (real, under load) is no difference; other orders are', async (t) => {
  const hangup = (uuid: string, late: boolean): string => leg(uuid, 'loopback/x-a', 'CHANNEL_HANGUP', late
    ? { 'Hangup-Cause': 'NORMAL_CLEARING', 'Channel-State': 'CS_REPORTING', 'Channel-Call-State': 'HANGUP', variable_billsec: '1' }
    : { 'Hangup-Cause': 'NORMAL_CLEARING', 'Channel-State': 'CS_EXECUTE', 'Channel-Call-State': 'ACTIVE' });
  const park = (uuid: string): string => leg(uuid, 'loopback/x-a', 'CHANNEL_EXECUTE_COMPLETE', { Application: 'park', 'Hangup-Cause': 'NORMAL_CLEARING' });
  const done = (uuid: string): string => leg(uuid, 'loopback/x-a', 'CHANNEL_HANGUP_COMPLETE', { 'Hangup-Cause': 'NORMAL_CLEARING' });
  const twin = transcript(hangup(B_TWIN, false) + park(B_TWIN) + done(B_TWIN));
  t.same(diffTranscripts(transcript(park(B_REAL) + done(B_REAL) + hangup(B_REAL, true)), twin), []);
  // a CHANNEL_HANGUP missing, or its cause different, still shows
  t.equal(diffTranscripts(transcript(park(B_REAL) + done(B_REAL)), twin).length, 1, 'missing hang-up: the order differs');
  const otherCause = leg(B_REAL, 'loopback/x-a', 'CHANNEL_HANGUP', { 'Hangup-Cause': 'USER_BUSY', 'Channel-State': 'CS_REPORTING' });
  t.match(formatDiff('x', diffTranscripts(transcript(park(B_REAL) + done(B_REAL) + otherCause), twin)), /Hangup-Cause/);
});

t.test('normalise: uuids by role, dates, long numbers, host names, directories', async (t) => {
  const labels = learnLabels(frames(leg(A, 'loopback/x-a', 'CHANNEL_CREATE')), { [B_REAL]: '<B>' });
  t.equal(normalise(`+OK ${A} sent DTMF 12.\n`, labels), '+OK <loopback/x-a> sent DTMF 12.\n');
  t.equal(normalise(`${B_REAL} 0f34a37a-e6b2-43a6-8f36-0e0d36372560`, labels), '<B> <uuid>');
  t.equal(normalise('2026-12-07 04:05:15 / Mon, 07 Dec 2026 04:04:58 GMT', labels), '<date> / <date>');
  t.equal(normalise('1796616315123456 0000000000 1.5 42', labels), '<time> 0000000000 1.5 42');
  t.equal(normalise('"hostname":"vm","x":"vmware"', labels), '"hostname":"<host>","x":"vmware"');
  t.equal(normalise('{"file":"/tmp/fsbridge-x/abc_0.tmp.r8"} ws://127.0.0.1:1/x', labels), '{"file":"<dir>/abc_0.tmp.r8"} ws://127.0.0.1:1/x');
});

t.test('a body normaliser compares only the shape', async (t) => {
  const shape = (s: string): string => s.replace(/\d+/g, 'N');
  const real = transcript('Content-Type: api/response\nContent-Length: 4\n\nUP 1');
  const twin = transcript('Content-Type: api/response\nContent-Length: 5\n\nUP 22');
  t.equal(diffTranscripts(real, twin).length, 1);
  t.same(diffTranscripts(real, twin, { body: shape }), []);
});
