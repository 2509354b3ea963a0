import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { framesOf, jsonNames, plainNames, RawClient, type RawFrame } from './raw-client.js';
import { CAPTURES } from '../../helpers/fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const CAP = CAPTURES + '/esl/';
const capFrame = (p: string): RawFrame => framesOf(readFileSync(CAP + p))[0];
const noVars = (names: string[]): string[] => names.filter((n) => !n.startsWith('variable_'));

async function subscriber(port: number, subscribe: string): Promise<RawClient> {
  const c = await RawClient.open(port);
  await c.waitFrames(1);
  c.send('auth ClueCon\n\n');
  await c.waitFrames(2);
  c.send(subscribe);
  await c.waitFrames(3);
  return c;
}

const jsonOf = (f: RawFrame): Record<string, string> => JSON.parse(f.body) as Record<string, string>;

t.test('loopback originate + uuid_kill: header layout and per-leg sequence match the capture', async (t) => {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan') });
  await tw.start();
  t.teardown(() => tw.close());
  const plain = await subscriber(tw.port, 'event plain CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE PLAYBACK_START PLAYBACK_STOP\n\n');
  const json = await subscriber(tw.port, 'event json ALL\n\n');
  t.teardown(() => { plain.close(); json.close(); });
  const res = await tw.api('originate loopback/9999/default &park');
  const a = res.slice(4, 40);
  await new Promise((r) => setTimeout(r, 50));
  await tw.api(`uuid_kill ${a}`);
  const isDestroyA = (f: RawFrame): boolean => f.body.includes('"CHANNEL_STATE"') && f.body.includes('"CS_DESTROY"') && f.body.includes(a);
  await json.waitFor(isDestroyA);

  const pEvents = plain.frames.slice(3);
  const jEvents = json.frames.slice(3);
  t.ok(pEvents.length > 5 && jEvents.length > 20, 'events arrived');
  t.same([...new Set([...pEvents, ...jEvents].map((f) => f.names.join(',')))], ['Content-Length,Content-Type'], 'outer frame: Content-Length first');

  const mineP = (name: string): RawFrame => {
    const f = pEvents.find((x) => x.body.startsWith(`Event-Name: ${name}\n`) && x.body.includes(`Unique-ID: ${a}\n`));
    if (!f) throw new Error(`no plain ${name}`);
    return f;
  };
  const mineJ = (name: string): RawFrame => {
    const f = jEvents.find((x) => jsonOf(x)['Event-Name'] === name && jsonOf(x)['Unique-ID'] === a);
    if (!f) throw new Error(`no json ${name}`);
    return f;
  };
  for (const name of ['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_HANGUP']) {
    const capP = plainNames(capFrame(`events-plain/${name}.raw`).body);
    const capJ = jsonNames(capFrame(`events-json/${name}.raw`).body);
    t.same(noVars(plainNames(mineP(name).body)), noVars(capP), `plain ${name} header names`);
    t.same(noVars(jsonNames(mineJ(name).body)), noVars(capJ), `json ${name} header names`);
  }
  t.same(plainNames(mineP('CHANNEL_CREATE').body), plainNames(capFrame('events-plain/CHANNEL_CREATE.raw').body), 'CHANNEL_CREATE incl. variables');
  const hc = jsonNames(mineJ('CHANNEL_HANGUP_COMPLETE').body).filter((n) => n === 'Hangup-Cause');
  t.equal(hc.length, 2, 'json CHANNEL_HANGUP_COMPLETE has Hangup-Cause twice');
  t.ok(mineP('CHANNEL_CREATE').body.endsWith('variable_loopback_leg: A\n\n'), 'plain event without body ends with an empty line');

  // Per-leg event sequences (state tuples) against call A of the json capture.
  const capAll = framesOf(readFileSync(CAP + 'inbound-event-json-all.raw')).slice(3, 70).map(jsonOf);
  const skip = new Set(['CODEC', 'API', 'CUSTOM', 'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'PRIVATE_COMMAND']);
  const tuple = (o: Record<string, string>): string =>
    [o['Event-Name'], o['Channel-State'], o['Channel-State-Number'], o['Channel-Call-State'], o['Answer-State'], o.Application ?? ''].join(' ');
  const seq = (list: Record<string, string>[], uuid: string, drop: (o: Record<string, string>) => boolean): string[] =>
    list.filter((o) => o['Unique-ID'] === uuid && !skip.has(o['Event-Name']) && !drop(o)).map(tuple);
  const capA = '9e618bfe-e3e8-45c2-b09b-8378acf1019e';
  const capB = '754870fe-3d78-40eb-9d31-585fa217f21d';
  // The capture's A leg also played a broadcast file; leave those frames out.
  const broadcast = (o: Record<string, string>): boolean =>
    (o.Application === 'playback' || o['Event-Name'].startsWith('PLAYBACK')) && o['Unique-ID'] === capA;
  const mine = jEvents.map(jsonOf);
  const b = mine.find((o) => o['Event-Name'] === 'CHANNEL_CREATE' && o['Unique-ID'] !== a)?.['Unique-ID'] ?? '';
  t.same(seq(mine, a, () => false), seq(capAll, capA, broadcast), 'A leg sequence');
  t.same(seq(mine, b, () => false), seq(capAll, capB, () => false), 'B leg sequence');
});
