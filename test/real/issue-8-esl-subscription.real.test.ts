// Issue 8 (defect 12) on the real FreeSWITCH 1.10.12 (+ community mod_audio_stream): with the
// control connection's new subscription (`filter Event-Name BACKGROUND_JOB`, one
// `filter Unique-ID <uuid>` per watched channel, one `event json …` line), another call's events
// never reach it, its own channel's PLAYBACK and mod_audio_stream events do, bgapi results still
// arrive, and an unwatched channel goes quiet. Then the two facts the design rests on, raw:
// a Unique-ID filter alone cuts BACKGROUND_JOB off, and an empty filter list passes everything.
// The same scenario runs against the twin in test/integration/esl/issue-8-esl-subscription.test.ts.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { RawEsl } from '../helpers/real/raw-esl.js';
import { PARK_EXTENSION, runSubscriptionScenario } from '../helpers/esl-subscription-scenario.js';

const skip = realSkipReason();

t.test('issue 8: the control connection gets only its own channels\' events from the real FreeSWITCH', { skip }, async (t) => {
  const fs = await RealFreeswitch.start(t, { dropIns: { 'dialplan/default/issue-8.xml': PARK_EXTENSION } });

  await t.test('EslControl with a watched and an unrelated call', async (t) => {
    await runSubscriptionScenario(t, { name: 'real', eslPort: fs.eslPort, password: fs.password, api: (cmd) => fs.api(cmd) });
  });

  await t.test('mod_event_socket filters, raw: ORed; a Unique-ID filter alone drops BACKGROUND_JOB; none at all passes all', async (t) => {
    const c = await RawEsl.open(fs.eslPort);
    t.teardown(() => c.close());
    await c.reply('auth/request');
    await c.cmd(`auth ${fs.password}`);
    const reply = async (line: string): Promise<string> => (await c.cmd(line)).headers['Reply-Text'] ?? '';
    t.equal(await reply('event json BACKGROUND_JOB PLAYBACK_START PLAYBACK_STOP CUSTOM mod_audio_stream::play mod_audio_stream::json mod_audio_stream::error'),
      '+OK event listener enabled json', 'the one-line subscription with CUSTOM subclasses is accepted');
    const uuid = randomUUID();
    t.match(await fs.api(`originate {origination_uuid=${uuid}}loopback/issue-8-park/default &park`), /^\+OK /);
    t.teardown(() => fs.api(`uuid_kill ${uuid}`).then(() => {}, () => {}));
    const jobArrives = async (): Promise<boolean> => {
      const r = await c.cmd(`bgapi uuid_exists ${uuid}`);
      const job = r.headers['Job-UUID'];
      try {
        await c.waitEvents((h) => h['Event-Name'] === 'BACKGROUND_JOB' && h['Job-UUID'] === job, 1, 'the job', 2000);
        return true;
      } catch {
        return false;
      }
    };
    t.ok(await jobArrives(), 'no filter: the job arrives');
    t.equal(await reply(`filter Unique-ID ${uuid}`), `+OK filter added. [Unique-ID]=[${uuid}]`);
    t.notOk(await jobArrives(), 'only a Unique-ID filter: the job never arrives (it has no Unique-ID)');
    t.equal(await reply('filter Event-Name BACKGROUND_JOB'), '+OK filter added. [Event-Name]=[BACKGROUND_JOB]');
    t.ok(await jobArrives(), 'with an Event-Name filter beside it: it arrives (filters are ORed)');
    const stops = (): number => c.events().filter((h) => h['Event-Name'] === 'PLAYBACK_STOP' && h['Unique-ID'] === uuid).length;
    t.match(await fs.api(`uuid_broadcast ${uuid} tone_stream://%(100,0,440) aleg`), /^\+OK/);
    await c.waitEvents((h) => h['Event-Name'] === 'PLAYBACK_STOP' && h['Unique-ID'] === uuid, 1, 'PLAYBACK_STOP of the filtered channel');
    t.equal(await reply(`filter delete Unique-ID ${uuid}`), `+OK filter deleted. [Unique-ID][${uuid}]`);
    t.equal(await reply('filter delete Event-Name BACKGROUND_JOB'), '+OK filter deleted. [Event-Name][BACKGROUND_JOB]');
    t.match(await fs.api(`uuid_broadcast ${uuid} tone_stream://%(100,0,440) aleg`), /^\+OK/);
    await c.waitEvents((h) => h['Event-Name'] === 'PLAYBACK_STOP' && h['Unique-ID'] === uuid, 2, 'PLAYBACK_STOP with every filter deleted');
    t.equal(stops(), 2, 'every filter deleted: the list is empty and events pass again (so fsbridge keeps the Event-Name filter for good)');
  });
});
