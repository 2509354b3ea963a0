import t from 'tap';
import { RETRYABLE, type AttemptOutcome } from '../../../src/campaigns/outcome.js';
import { DEFAULT_RETRY, nextStep, parseRetryRules, type RetryRules } from '../../../src/campaigns/retry-rules.js';

const RULES: RetryRules = {
  'busy': { delaySec: 60, maxAttempts: 3 },
  'no-answer': { delaySec: 120, maxAttempts: 4 },
  'failed': { delaySec: 30, maxAttempts: 2 },
  'machine': { delaySec: 7200, maxAttempts: 5 },
  'bot-unreachable': { delaySec: 0, maxAttempts: 1 },
};

/** The problems of a parse that must fail. */
function problemsOf(x: unknown): string[] {
  const r = parseRetryRules(x);
  if (r.ok) throw new Error(`expected problems for ${JSON.stringify(x)}`);
  return r.problems;
}

t.test('final outcomes end the contact whatever the attempt count', (t) => {
  for (const attempts of [0, 1, 2, 100]) {
    t.same(nextStep('completed', attempts, RULES), { final: true, state: 'completed' }, `completed after ${attempts}`);
    t.same(nextStep('invalid-number', attempts, RULES), { final: true, state: 'invalid' }, `invalid-number after ${attempts}`);
  }
  t.end();
});

t.test('each retryable outcome is retried after its own delay below its maxAttempts, exhausted at and above', (t) => {
  for (const o of RETRYABLE) {
    const { delaySec, maxAttempts } = RULES[o];
    for (let attempts = 0; attempts < maxAttempts; attempts++) {
      t.same(nextStep(o, attempts, RULES), { final: false, delayMs: delaySec * 1000 }, `${o} after ${attempts} of ${maxAttempts}`);
    }
    t.same(nextStep(o, maxAttempts, RULES), { final: true, state: 'exhausted' }, `${o} at maxAttempts ${maxAttempts}`);
    t.same(nextStep(o, maxAttempts + 1, RULES), { final: true, state: 'exhausted' }, `${o} above maxAttempts`);
  }
  t.end();
});

t.test('the delay is in ms and comes from the rule of the outcome, not of another', (t) => {
  t.same(nextStep('busy', 1, RULES), { final: false, delayMs: 60_000 });
  t.same(nextStep('no-answer', 1, RULES), { final: false, delayMs: 120_000 });
  t.same(nextStep('machine', 1, RULES), { final: false, delayMs: 7_200_000 });
  t.same(nextStep('bot-unreachable', 0, RULES), { final: false, delayMs: 0 }, 'a zero delay');
  t.same(nextStep('bot-unreachable', 1, RULES), { final: true, state: 'exhausted' }, 'maxAttempts 1: the first attempt was the last');
  t.end();
});

t.test('DEFAULT_RETRY as documented, through nextStep', (t) => {
  const cases: [AttemptOutcome, number, number][] = [
    ['busy', 600, 3], ['no-answer', 1800, 3], ['failed', 300, 2], ['machine', 3600, 2], ['bot-unreachable', 300, 2],
  ];
  for (const [o, delaySec, maxAttempts] of cases) {
    t.same(nextStep(o, 1, DEFAULT_RETRY), { final: false, delayMs: delaySec * 1000 }, `${o} first retry`);
    t.same(nextStep(o, maxAttempts - 1, DEFAULT_RETRY), { final: false, delayMs: delaySec * 1000 }, `${o} last retry`);
    t.same(nextStep(o, maxAttempts, DEFAULT_RETRY), { final: true, state: 'exhausted' }, `${o} exhausted`);
  }
  t.same(Object.keys(DEFAULT_RETRY).sort(), [...RETRYABLE].sort(), 'a default for every retryable outcome');
  t.end();
});

t.test('parseRetryRules: absent or empty gives the defaults', (t) => {
  const absent = parseRetryRules(undefined);
  t.same(absent, { ok: true, rules: DEFAULT_RETRY });
  const empty = parseRetryRules({});
  t.same(empty, { ok: true, rules: DEFAULT_RETRY });
  t.end();
});

t.test('parseRetryRules: partial overrides keep the other defaults', (t) => {
  t.same(parseRetryRules({ busy: { delaySec: 60 } }), { ok: true, rules: { ...DEFAULT_RETRY, busy: { delaySec: 60, maxAttempts: 3 } } }, 'only delaySec');
  t.same(parseRetryRules({ 'no-answer': { maxAttempts: 5 } }), { ok: true, rules: { ...DEFAULT_RETRY, 'no-answer': { delaySec: 1800, maxAttempts: 5 } } }, 'only maxAttempts');
  t.same(parseRetryRules({ machine: {} }), { ok: true, rules: DEFAULT_RETRY }, 'an empty rule');
  t.same(parseRetryRules({ machine: null }), { ok: true, rules: DEFAULT_RETRY }, 'a null rule');
  t.same(parseRetryRules({ machine: { delaySec: null, maxAttempts: null } }), { ok: true, rules: DEFAULT_RETRY }, 'null fields, as absent ones');
  t.same(parseRetryRules({ 'failed': { delaySec: 0, maxAttempts: 1 }, 'bot-unreachable': { delaySec: 2_592_000, maxAttempts: 20 } }), {
    ok: true,
    rules: { ...DEFAULT_RETRY, 'failed': { delaySec: 0, maxAttempts: 1 }, 'bot-unreachable': { delaySec: 2_592_000, maxAttempts: 20 } },
  }, 'the bounds are allowed');
  // the defaults themselves are not changed by an override
  t.same(DEFAULT_RETRY.busy, { delaySec: 600, maxAttempts: 3 });
  t.end();
});

t.test('parseRetryRules: a parsed override drives nextStep', (t) => {
  const r = parseRetryRules({ busy: { delaySec: 5, maxAttempts: 2 } });
  if (!r.ok) throw new Error('expected ok');
  t.same(nextStep('busy', 1, r.rules), { final: false, delayMs: 5000 });
  t.same(nextStep('busy', 2, r.rules), { final: true, state: 'exhausted' });
  t.same(nextStep('no-answer', 2, r.rules), { final: false, delayMs: 1_800_000 }, 'other outcomes keep their defaults');
  t.end();
});

t.test('parseRetryRules: a non-object', (t) => {
  for (const x of [null, 5, 'busy', true, [], [{ delaySec: 1 }]]) {
    const p = problemsOf(x);
    t.equal(p.length, 1, `${JSON.stringify(x)}: one problem`);
    t.match(p[0], /^retry: /, `${JSON.stringify(x)}: names retry`);
  }
  t.end();
});

t.test('parseRetryRules: an outcome that is not retryable', (t) => {
  for (const k of ['completed', 'invalid-number', 'noanswer', 'Busy', '__proto__']) {
    const p = problemsOf(JSON.parse(`{${JSON.stringify(k)}:{"delaySec":1}}`));
    t.equal(p.length, 1, k);
    t.ok(p[0].startsWith(`retry.${k}: `), `${k} named: ${p[0]}`);
  }
  t.end();
});

t.test('parseRetryRules: bad delaySec', (t) => {
  for (const delaySec of [-1, 1.5, 2_592_001, '60', Number.NaN, Number.POSITIVE_INFINITY, true, {}]) {
    const p = problemsOf({ busy: { delaySec } });
    t.equal(p.length, 1, `delaySec ${String(delaySec)}`);
    t.ok(p[0].startsWith('retry.busy.delaySec: '), `delaySec ${String(delaySec)}: ${p[0]}`);
  }
  t.end();
});

t.test('parseRetryRules: bad maxAttempts', (t) => {
  for (const maxAttempts of [0, -1, 21, 2.5, '3', Number.NaN, false, []]) {
    const p = problemsOf({ 'no-answer': { maxAttempts } });
    t.equal(p.length, 1, `maxAttempts ${String(maxAttempts)}`);
    t.ok(p[0].startsWith('retry.no-answer.maxAttempts: '), `maxAttempts ${String(maxAttempts)}: ${p[0]}`);
  }
  t.end();
});

t.test('parseRetryRules: a rule that is not an object', (t) => {
  for (const v of [5, 'often', true, [60, 3]]) {
    const p = problemsOf({ busy: v });
    t.equal(p.length, 1, `busy: ${JSON.stringify(v)}`);
    t.ok(p[0].startsWith('retry.busy: '), `busy: ${JSON.stringify(v)} named: ${p[0]}`);
  }
  t.end();
});

t.test('parseRetryRules: every problem is reported at once', (t) => {
  const p = problemsOf({
    'busy': { delaySec: -5, maxAttempts: 0 },
    'completed': { delaySec: 1 },
    'machine': { delaySec: 1, maxAttempts: 99 },
  });
  t.equal(p.length, 4);
  t.ok(p.some((s) => s.startsWith('retry.busy.delaySec: ')));
  t.ok(p.some((s) => s.startsWith('retry.busy.maxAttempts: ')));
  t.ok(p.some((s) => s.startsWith('retry.completed: ')));
  t.ok(p.some((s) => s.startsWith('retry.machine.maxAttempts: ')));
  t.end();
});
