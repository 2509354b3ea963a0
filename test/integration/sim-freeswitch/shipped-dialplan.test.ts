import t from 'tap';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { RawClient } from './raw-client.js';

const DIALPLANS = join(process.cwd(), 'dialplans');

async function setup(t: any): Promise<{ tw: FreeswitchTwin; next: () => Promise<RawClient> }> {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: DIALPLANS });
  await tw.start();
  t.teardown(() => tw.close());
  const pending: Socket[] = [];
  const waiters: ((s: Socket) => void)[] = [];
  const srv = createServer({ allowHalfOpen: true }, (s) => { const w = waiters.shift(); if (w) w(s); else pending.push(s); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  t.equal(await tw.api(`global_setvar fsbridge_outbound_socket=127.0.0.1:${(srv.address() as AddressInfo).port}`), '+OK');
  return {
    tw,
    next: async () => {
      const s = pending.shift() ?? await new Promise<Socket>((r) => waiters.push(r));
      const c = new RawClient(s);
      t.teardown(() => c.close());
      return c;
    },
  };
}

t.test('default context: echo-twilio and bot-<name> reach the outbound socket with fsbridge_bot set', async (t) => {
  const { tw, next } = await setup(t);
  for (const [dest, bot] of [['echo-twilio', 'echo-twilio'], ['bot-sales', 'sales'], ['8100', 'support']]) {
    const p = tw.originate(`{origination_caller_id_number=+15550100}loopback/${dest}/default &park`);
    const c = await next();
    c.send('connect\n\n');
    const [reply] = await c.waitFrames(1);
    t.equal(reply.h.variable_fsbridge_bot, bot, `${dest} → ${bot}`);
    t.equal(reply.h['Caller-Caller-ID-Number'], '%2B15550100');
    t.equal(reply.h['Socket-Mode'], 'async');
    t.equal(reply.h.Control, 'full');
    if (dest === '8100') t.equal(reply.h.variable_fsbridge_param_language, 'en');
    c.send('sendmsg\ncall-command: execute\nexecute-app-name: answer\n\n');
    const res = await p;
    t.match(res, /^\+OK /);
    t.equal(await tw.api(`uuid_kill ${res.slice(4, 40)}`), '+OK\n');
    await c.waitEnd();
  }
  t.equal(await tw.api('global_getvar fsbridge_outbound_socket') !== '', true);
});

t.test('fsbridge context: X-Fsbridge-Call header variable becomes fsbridge_call_id; no header is rejected', async (t) => {
  const { tw, next } = await setup(t);
  const p = tw.originate('{sip_h_X-Fsbridge-Call=call-42}loopback/+918012345678/fsbridge &park');
  const c = await next();
  c.send('connect\n\nsendmsg\ncall-command: execute\nexecute-app-name: answer\n\n');
  const [reply] = await c.waitFrames(1);
  t.equal(reply.h.variable_fsbridge_call_id, 'call-42');
  t.equal(reply.h['Caller-Context'], 'fsbridge');
  const res = await p;
  await tw.api(`uuid_kill ${res.slice(4, 40)}`);
  t.equal(await tw.originate('loopback/+918012345678/fsbridge &park'), '-ERR CALL_REJECTED\n');
});
