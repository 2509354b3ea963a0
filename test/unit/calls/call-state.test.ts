import t from 'tap';
import { canTransition } from '../../../src/calls/call-state.js';
import { causeFromName, causeFromCode } from '../../../src/calls/hangup-causes.js';

t.test('legal and illegal transitions', async (t) => {
  t.ok(canTransition('offered', 'answered'));
  t.ok(canTransition('answered', 'connected'));
  t.ok(canTransition('connected', 'ending'));
  t.ok(canTransition('ending', 'ended'));
  t.notOk(canTransition('ended', 'offered'));
  t.notOk(canTransition('connected', 'answered'));
  t.notOk(canTransition('offered', 'connected'));
  t.notOk(canTransition('ending', 'connected'));
});

t.test('hang-up causes by name and number', async (t) => {
  t.same(causeFromName('NORMAL_CLEARING'), { name: 'NORMAL_CLEARING', code: 16 });
  t.same(causeFromName('user_busy'), { name: 'USER_BUSY', code: 17 });
  t.same(causeFromName('SOMETHING_NEW'), { name: 'SOMETHING_NEW', code: 0 });
  t.same(causeFromCode(34), { name: 'NORMAL_CIRCUIT_CONGESTION', code: 34 });
  t.same(causeFromName('ORIGINATOR_CANCEL'), { name: 'ORIGINATOR_CANCEL', code: 487 });
});
