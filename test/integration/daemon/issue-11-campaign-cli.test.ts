// Issue 11, the command line: `fsbridge campaign …` and `fsbridge dnc …` (the built CLI, as child
// processes) against a daemon running in this process with the FreeSWITCH and drachtio twins.
// The campaigns are created paused, or with calling windows that open only weeks from now, so
// nothing is dialled; the trunk points at a loopback port nobody listens on.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import { CAMPAIGN_CSV_COLUMNS } from '../../../src/api/campaign-routes.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { freePort, Proc } from '../../helpers/process.js';
import { startTwinDaemon } from '../../helpers/twin-daemon.js';

interface Ran { code: number | null; stdout: string; stderr: string }

/** Runs the built CLI to its end; stdout and stderr apart (both read to their end). */
async function cli(t: Test, args: string[]): Promise<Ran> {
  const p = new Proc(args);
  t.teardown(() => p.stop('SIGKILL'));
  let stdout = '';
  let stderr = '';
  p.child.stdout!.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
  p.child.stderr!.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
  // 'close', not 'exit': the pipes may still hold output when the process has exited
  const code = await new Promise<number | null>((resolve) => p.child.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** The daemon in this process; resolves the configuration file the CLI is given (its real API port). */
async function setup(t: Test): Promise<{ config: string; dir: string }> {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const h = await startTwinDaemon(t, `
trunks:
  - { name: operator, registrar: "sip:127.0.0.1:9", register: false }
bots:
  echo: { url: "${bot.url}twilio", protocol: twilio }
calls: { drainTimeoutMs: 1000 }
`);
  const config = join(h.dir, 'fsbridge.yaml');
  writeFileSync(config, h.configText(h.ports.api));
  return { config, dir: h.dir };
}

/** A local date weeks from now: calling windows that start then are closed for the whole test. */
const later = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
const closedWindows = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '09:00', end: '17:00', startDate: later }];

/** CSV lines without the final line end (the API ends each line with CRLF). */
const csvLines = (s: string) => s.split('\r\n').filter((l, i, all) => l !== '' || i < all.length - 1);

t.test('campaign and dnc commands against a running daemon', async (t) => {
  const { config, dir } = await setup(t);
  const spec = join(dir, 'spec.json');
  writeFileSync(spec, JSON.stringify({ name: 'spring', bot: 'echo', trunk: 'operator', defaultCountry: 'US', timeZone: 'America/New_York', windows: closedWindows }));
  const contactsCsv = join(dir, 'contacts.csv');
  writeFileSync(contactsCsv, 'number,name\r\n+1 212 555 0101,Ann\r\n(212) 555-0102,"Bob, Jr."\r\n212.555.0101,Ann again\r\nnot a number,Eve\r\n');
  let id = '';

  await t.test('create from a spec and a CSV file, paused', async (t) => {
    const r = await cli(t, ['campaign', 'create', '--config', config, '--spec', spec, '--contacts', contactsCsv, '--paused']);
    t.equal(r.code, EXIT.OK, r.stderr);
    const body = JSON.parse(r.stdout) as { id: string };
    t.match(body, { id: /^[0-9a-f-]{36}$/, state: 'paused', contacts: 3, duplicates: 1, invalid: 1 }, 'numbers normalised: the third is the first again');
    id = body.id;
  });

  await t.test('create from a JSON contacts file, started (its windows open only weeks from now)', async (t) => {
    const contactsJson = join(dir, 'contacts.json');
    writeFileSync(contactsJson, JSON.stringify(['+1 310 555 0100', { number: '+13105550101', vars: { name: 'Zed' } }]));
    const r = await cli(t, ['campaign', 'create', '--config', config, '--spec', spec, '--contacts', contactsJson]);
    t.equal(r.code, EXIT.OK, r.stderr);
    t.match(JSON.parse(r.stdout), { state: 'running', contacts: 2, duplicates: 0, invalid: 0 });
  });

  await t.test('status: the list, and one campaign with its counts', async (t) => {
    const list = await cli(t, ['campaign', 'status', '--config', config]);
    t.equal(list.code, EXIT.OK, list.stderr);
    const campaigns = (JSON.parse(list.stdout) as { campaigns: { id: string }[] }).campaigns;
    t.equal(campaigns.length, 2);
    t.match(campaigns.find((c) => c.id === id), { name: 'spring', tenant: 'default', state: 'paused', contacts: 3 });
    const one = await cli(t, ['campaign', 'status', '--config', config, id]);
    t.equal(one.code, EXIT.OK, one.stderr);
    const view = JSON.parse(one.stdout) as Record<string, unknown>;
    t.match(view, { id, state: 'paused', contacts: 3, attemptsLastMinute: 0, spec: { bot: 'echo', trunk: 'operator' } });
    t.same(view.counts, { pending: 2, invalid: 1 });
    const none = await cli(t, ['campaign', 'status', '--config', config, 'no-such-campaign']);
    t.equal(none.code, EXIT.FAILURE);
    t.match(none.stderr, /404 API_NOT_FOUND/);
  });

  await t.test('resume, pause, cancel; a second cancel is the API\'s 409', async (t) => {
    for (const [verb, state] of [['resume', 'running'], ['pause', 'paused'], ['cancel', 'cancelled']]) {
      const r = await cli(t, ['campaign', verb, '--config', config, id]);
      t.equal(r.code, EXIT.OK, r.stderr);
      t.match(JSON.parse(r.stdout), { id, state }, `${verb}: ${state}`);
    }
    const again = await cli(t, ['campaign', 'cancel', '--config', config, id]);
    t.equal(again.code, EXIT.FAILURE);
    t.match(again.stderr, /409 API_CAMPAIGN_STATE/);
    t.equal(again.stdout, '');
    const view = JSON.parse((await cli(t, ['campaign', 'status', '--config', config, id])).stdout) as Record<string, unknown>;
    t.same(view.counts, { cancelled: 2, invalid: 1 }, 'the pending contacts were cancelled');
  });

  await t.test('export: CSV with the header and one row per contact, to stdout or a file', async (t) => {
    const r = await cli(t, ['campaign', 'export', '--config', config, id]);
    t.equal(r.code, EXIT.OK, r.stderr);
    const lines = csvLines(r.stdout);
    t.equal(lines[0], CAMPAIGN_CSV_COLUMNS.join(','));
    const at = CAMPAIGN_CSV_COLUMNS.indexOf('number');
    const state = CAMPAIGN_CSV_COLUMNS.indexOf('contactState');
    t.same(lines.slice(1).map((l) => [l.split(',')[at], l.split(',')[state]]),
      [['+12125550101', 'cancelled'], ['+12125550102', 'cancelled'], ['not a number', 'invalid']]);
    const out = join(dir, 'export.csv');
    const f = await cli(t, ['campaign', 'export', '--config', config, id, '--out', out]);
    t.equal(f.code, EXIT.OK, f.stderr);
    t.equal(f.stdout, '');
    t.equal(readFileSync(out, 'utf8'), r.stdout, 'the file holds what stdout got');
  });

  await t.test('create refused by the API: its status, code and problems', async (t) => {
    const badSpec = join(dir, 'bad-spec.json');
    writeFileSync(badSpec, JSON.stringify({ name: 'x', bot: 'nosuch', trunk: 'operator' }));
    const r = await cli(t, ['campaign', 'create', '--config', config, '--spec', badSpec]);
    t.equal(r.code, EXIT.FAILURE);
    t.match(r.stderr, /400 API_BAD_REQUEST/);
    t.match(r.stderr, /^ {2}bot: /m, 'the problem is named by its field');
    const missing = await cli(t, ['campaign', 'create', '--config', config, '--spec', join(dir, 'missing.json')]);
    t.equal(missing.code, EXIT.FAILURE);
    t.match(missing.stderr, /ENOENT/);
  });

  await t.test('dnc: add, list, remove (numbers in E.164)', async (t) => {
    const add = await cli(t, ['dnc', 'add', '--config', config, '--default-country', 'US', '+1 212 555 0103', '(212) 555-0104']);
    t.equal(add.code, EXIT.OK, add.stderr);
    t.same(JSON.parse(add.stdout), { tenant: 'default', added: 2, alreadyListed: 0 });
    const csv = join(dir, 'dnc.csv');
    writeFileSync(csv, 'number\n+1 (212) 555-0104\n+12125550105\n');
    const fromFile = await cli(t, ['dnc', 'add', '--config', config, '--file', csv]);
    t.equal(fromFile.code, EXIT.OK, fromFile.stderr);
    t.same(JSON.parse(fromFile.stdout), { tenant: 'default', added: 1, alreadyListed: 1 });
    const global = await cli(t, ['dnc', 'add', '--config', config, '--tenant', '*', '+1-212-555-0106']);
    t.equal(global.code, EXIT.OK, global.stderr);
    t.match(JSON.parse(global.stdout), { tenant: '*', added: 1 });

    const numbersOf = (r: Ran) => csvLines(r.stdout).slice(1).map((l) => l.split(',').slice(0, 2).join(','));
    const list = await cli(t, ['dnc', 'list', '--config', config]);
    t.equal(list.code, EXIT.OK, list.stderr);
    t.equal(csvLines(list.stdout)[0], 'number,source,addedAt');
    t.same(numbersOf(list), ['+12125550103,api', '+12125550104,api', '+12125550105,api']);
    t.same(numbersOf(await cli(t, ['dnc', 'list', '--config', config, '--tenant', '*'])), ['+12125550106,api']);

    const rm = await cli(t, ['dnc', 'remove', '--config', config, '+1 212 555 0103']);
    t.equal(rm.code, EXIT.OK, rm.stderr);
    t.same(JSON.parse(rm.stdout), { tenant: 'default', removed: '+12125550103' });
    const out = join(dir, 'dnc-out.csv');
    t.equal((await cli(t, ['dnc', 'list', '--config', config, '--out', out])).code, EXIT.OK);
    t.same(csvLines(readFileSync(out, 'utf8')).slice(1).map((l) => l.split(',')[0]), ['+12125550104', '+12125550105']);

    const again = await cli(t, ['dnc', 'remove', '--config', config, '+12125550103']);
    t.equal(again.code, EXIT.FAILURE);
    t.match(again.stderr, /404 API_NOT_FOUND/);
    const bad = await cli(t, ['dnc', 'add', '--config', config, '12']);
    t.equal(bad.code, EXIT.FAILURE);
    t.match(bad.stderr, /400 API_BAD_REQUEST/);
  });
});

t.test('the daemon is not running: a non-zero exit that says so', async (t) => {
  const dir = t.testdir();
  const config = join(dir, 'fsbridge.yaml');
  const port = await freePort();
  // a valid configuration whose API nobody listens on
  writeFileSync(config, `
freeswitch: { esl: { port: 8021, password: ClueCon } }
api: { listen: "127.0.0.1:${port}", token: tok }
store: { url: ${JSON.stringify(`sqlite:${join(dir, 'fsbridge.db')}`)} }
`);
  for (const args of [['campaign', 'status'], ['campaign', 'export', 'some-id'], ['dnc', 'list'], ['dnc', 'add', '+12125550100']]) {
    const r = await cli(t, [...args, '--config', config]);
    t.equal(r.code, EXIT.FAILURE, args.join(' '));
    t.match(r.stderr, `cannot reach the daemon's API at 127.0.0.1:${port}`);
    t.match(r.stderr, /ECONNREFUSED/);
    t.equal(r.stdout, '');
  }
  const invalid = await cli(t, ['campaign', 'status', '--config', join(dir, 'missing.yaml')]);
  t.equal(invalid.code, EXIT.CONFIG_INVALID, 'a configuration that cannot be read');
});

t.test('bad usage: the usage exit code, before the configuration is read', async (t) => {
  const f = join(t.testdir(), 'never-read.yaml');
  const cases = [
    ['campaign'], ['campaign', 'frobnicate'], ['campaign', 'pause', '--config', f], ['campaign', 'status', '--config', f, 'a', 'b'],
    ['campaign', 'create', '--config', f], ['campaign', 'create', '--config', f, '--spec', 's.json', 'extra'],
    ['campaign', 'create', '--config', f, '--spec', 's.json', '--paused', 'yes'],
    ['campaign', 'export', '--config', f, 'id', '--bogus'], ['campaign', 'export', '--config', f, 'id', '--out'],
    ['dnc'], ['dnc', 'add', '--config', f], ['dnc', 'add', '--config', f, '+12125550100', '--file', 'x.csv'],
    ['dnc', 'remove', '--config', f], ['dnc', 'remove', '--config', f, '+12125550100', '+12125550101'],
    ['dnc', 'list', '--config', f, '+12125550100'], ['dnc', 'list', '--config', f, '--tenant'],
  ];
  const runs = await Promise.all(cases.map((args) => cli(t, args)));
  runs.forEach((r, i) => {
    t.equal(r.code, EXIT.USAGE, cases[i].map((a) => (a === f ? 'FILE' : a)).join(' '));
    t.match(r.stderr, /usage:/);
  });
  const help = await cli(t, ['help']);
  t.match(help.stdout, /^ {2}campaign create --config FILE --spec SPEC\.json/m, 'the commands are in the usage text');
  t.match(help.stdout, /^ {2}dnc list --config FILE/m);
});
