import t from 'tap';
import { join } from 'node:path';
import { Dialplan, expandVariables, type HuntInput } from '../../../../src/sim/freeswitch/dialplan.js';
import { parseXml } from '../../../../src/sim/freeswitch/xml.js';

const DIR = join(process.cwd(), 'dialplans');

function input(dest: string, context: string, vars: Record<string, string> = {}): HuntInput {
  const lookup = (n: string): string | undefined => (n === 'destination_number' ? dest : vars[n]);
  return {
    destinationNumber: dest, context, field: lookup, expand: (s) => expandVariables(s, lookup), runInline: () => {},
  };
}

t.test('the shipped fsbridge dialplan routes bots and bridged calls', async (t) => {
  const dp = Dialplan.loadDir(DIR);
  t.same(dp.hunt(input('echo-twilio', 'default')), [
    { app: 'set', data: 'fsbridge_bot=echo-twilio' }, { app: 'socket', data: '${fsbridge_outbound_socket} async full' },
  ]);
  t.same(dp.hunt(input('echo-exotel', 'default'))?.[0], { app: 'set', data: 'fsbridge_bot=echo-exotel' });
  t.same(dp.hunt(input('echo-native', 'default'))?.[0], { app: 'set', data: 'fsbridge_bot=echo-native' });
  t.same(dp.hunt(input('bot-sales-2', 'default'))?.[0], { app: 'set', data: 'fsbridge_bot=sales-2' });
  const eight = dp.hunt(input('8100', 'default'));
  t.ok(eight?.some((a) => a.app === 'set' && a.data.startsWith('fsbridge_param_')));
  t.equal(dp.hunt(input('12345', 'default')), undefined, 'no route');
  t.same(dp.hunt(input('+918012345678', 'fsbridge', { 'sip_h_X-Fsbridge-Call': 'call-42' })), [
    { app: 'set', data: 'fsbridge_call_id=call-42' }, { app: 'socket', data: '${fsbridge_outbound_socket} async full' },
  ]);
  t.same(dp.hunt(input('+918012345678', 'fsbridge')), [{ app: 'hangup', data: 'CALL_REJECTED' }]);
});

t.test('conditions: anti-action, continue, break, globals', async (t) => {
  const dp = new Dialplan();
  dp.addXml(`<?xml version="1.0"?>
  <document type="freeswitch/xml"><section name="dialplan"><context name="c">
    <!-- comment -->
    <extension name="a" continue="true"><condition field="destination_number" expression="^(\\d+)$">
      <action application="set" data="n=$1"/><anti-action application="set" data="n=none"/></condition></extension>
    <extension name="b"><condition field="\${tag}" expression="^x$"/>
      <condition field="destination_number" expression="^1">
      <action application="log" data="b"/></condition></extension>
    <extension name="c"><condition><action application="hangup" data="'quoted &amp; fine'"/></condition></extension>
  </context></section></document>`);
  t.same(dp.hunt(input('123', 'c', { tag: 'x' })), [{ app: 'set', data: 'n=123' }, { app: 'log', data: 'b' }]);
  t.same(dp.hunt(input('abc', 'c')), [{ app: 'set', data: 'n=none' }, { app: 'hangup', data: "'quoted & fine'" }]);
  t.throws(() => parseXml('<a><b></a>'));
});
