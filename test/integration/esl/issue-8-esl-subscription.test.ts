// Issue 8 (defect 12) against the FreeSWITCH twin: the control connection's exact subscription and
// filters on the wire, and that another call's events never reach it. The same scenario runs
// against the real FreeSWITCH in test/real/issue-8-esl-subscription.real.test.ts.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { PARK_EXTENSION, runSubscriptionScenario } from '../../helpers/esl-subscription-scenario.js';

t.test('twin: only the watched channel\'s PLAYBACK and mod_audio_stream events reach the control connection', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fsbridge-issue8-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  mkdirSync(join(work, 'dialplan', 'default'), { recursive: true });
  writeFileSync(join(work, 'dialplan', 'default', 'issue-8.xml'), PARK_EXTENSION);
  const twin = new FreeswitchTwin({ host: '127.0.0.1', port: 0, password: 'ClueCon', dialplanDir: join(work, 'dialplan'), tempDir: join(work, 'tmp'), logger: silentLogger() });
  await twin.start();
  t.teardown(() => twin.close());
  await runSubscriptionScenario(t, { name: 'twin', eslPort: twin.port, password: 'ClueCon', api: (cmd) => twin.api(cmd) });
});
