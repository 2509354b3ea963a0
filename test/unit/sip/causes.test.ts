import t from 'tap';
import { sipStatusToCause, causeToSipStatus, reasonHeader, parseReasonHeader, causeCode } from '../../../src/sip/causes.js';

// RFC 3398 §8.2.6.1 (SIP → ISUP cause), transcribed row by row.
const RFC3398_SIP_TO_CAUSE: [number, number][] = [
  [400, 41], [401, 21], [402, 21], [403, 21], [404, 1], [405, 63], [406, 79], [407, 21], [408, 102],
  [410, 22], [413, 127], [414, 127], [415, 79], [416, 127], [420, 127], [421, 127], [423, 127],
  [480, 18], [481, 41], [482, 25], [483, 25], [484, 28], [485, 1], [486, 17], [500, 41], [501, 79],
  [502, 38], [503, 41], [504, 102], [505, 127], [513, 127], [600, 17], [603, 21], [604, 1],
];
// RFC 3398 §7.2.4.1 (ISUP cause → SIP), rows whose cause fsbridge names.
const RFC3398_CAUSE_TO_SIP: [string, number][] = [
  ['UNALLOCATED_NUMBER', 404], ['NO_ROUTE_TRANSIT_NET', 404], ['NO_ROUTE_DESTINATION', 404],
  ['USER_BUSY', 486], ['NO_USER_RESPONSE', 408], ['NO_ANSWER', 480], ['SUBSCRIBER_ABSENT', 480],
  ['CALL_REJECTED', 403], ['NUMBER_CHANGED', 410], ['REDIRECTION_TO_NEW_DESTINATION', 410],
  ['DESTINATION_OUT_OF_ORDER', 502], ['INVALID_NUMBER_FORMAT', 484], ['FACILITY_REJECTED', 501],
  ['NORMAL_UNSPECIFIED', 480], ['NORMAL_CIRCUIT_CONGESTION', 503], ['NETWORK_OUT_OF_ORDER', 503],
  ['NORMAL_TEMPORARY_FAILURE', 503], ['SWITCH_CONGESTION', 503], ['INCOMING_CALL_BARRED', 403],
  ['BEARERCAPABILITY_NOTAUTH', 403], ['BEARERCAPABILITY_NOTAVAIL', 503], ['BEARERCAPABILITY_NOTIMPL', 488],
  ['SERVICE_NOT_IMPLEMENTED', 501], ['INCOMPATIBLE_DESTINATION', 503], ['RECOVERY_ON_TIMER_EXPIRE', 504],
  ['PROTOCOL_ERROR', 500], ['INTERWORKING', 500],
];

t.test('SIP status → cause follows RFC 3398 §8.2.6.1', async (t) => {
  for (const [status, code] of RFC3398_SIP_TO_CAUSE) t.equal(sipStatusToCause(status).code, code, `status ${status}`);
  t.same(sipStatusToCause(486), { name: 'USER_BUSY', code: 17 });
  t.same(sipStatusToCause(404), { name: 'UNALLOCATED_NUMBER', code: 1 });
  t.same(sipStatusToCause(480), { name: 'NO_USER_RESPONSE', code: 18 });
  t.same(sipStatusToCause(603), { name: 'CALL_REJECTED', code: 21 });
  t.same(sipStatusToCause(487), { name: 'ORIGINATOR_CANCEL', code: 487 });
  t.same(sipStatusToCause(200), { name: 'NORMAL_CLEARING', code: 16 });
  t.same(sipStatusToCause(499), { name: 'NORMAL_UNSPECIFIED', code: 31 });
});

t.test('cause → SIP status follows RFC 3398 §7.2.4.1', async (t) => {
  for (const [name, status] of RFC3398_CAUSE_TO_SIP) t.equal(causeToSipStatus(name), status, name);
  t.equal(causeToSipStatus('ORIGINATOR_CANCEL'), 487);
  t.equal(causeToSipStatus('NOT_A_CAUSE'), 480);
});

t.test('round trip for the common causes', async (t) => {
  for (const name of ['USER_BUSY', 'UNALLOCATED_NUMBER', 'ORIGINATOR_CANCEL', 'RECOVERY_ON_TIMER_EXPIRE', 'NUMBER_CHANGED']) {
    t.equal(sipStatusToCause(causeToSipStatus(name)).name, name, name);
  }
});

t.test('Reason header', async (t) => {
  t.equal(reasonHeader('NORMAL_CLEARING'), 'Q.850;cause=16;text="NORMAL_CLEARING"');
  t.equal(reasonHeader({ name: 'USER_BUSY', code: 17 }), 'Q.850;cause=17;text="USER_BUSY"');
  t.equal(reasonHeader('WHATEVER'), 'Q.850;cause=0;text="WHATEVER"');
  t.same(parseReasonHeader('Q.850;cause=16;text="NORMAL_CLEARING"'), { name: 'NORMAL_CLEARING', code: 16 });
  t.same(parseReasonHeader('Q.850 ;cause=17'), { name: 'USER_BUSY', code: 17 });
  t.equal(parseReasonHeader('SIP;cause=200;text="Call completed elsewhere"'), undefined);
  t.equal(parseReasonHeader('Q.850;text="x"'), undefined);
  t.equal(causeCode('NO_ANSWER'), 19);
  t.equal(causeCode('nope'), undefined);
});
