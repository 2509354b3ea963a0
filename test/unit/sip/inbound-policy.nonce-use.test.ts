// Replay detection for inbound digest: the highest nonce count per nonce, bounded and expiring.
import t from 'tap';
import { MAX_TRACKED_NONCES_COUNT, NonceUseTable, checkNonce, makeNonce, nonceIssuedMs } from '../../../src/sip/inbound-policy.js';

const TTL_MS = 60_000;

t.test('nc must grow per nonce; an equal or lower nc is a replay', async (t) => {
  const uses = new NonceUseTable(TTL_MS);
  t.equal(uses.use('n1', 1000, 1, 1000), 'fresh');
  t.equal(uses.use('n1', 1000, 1, 1001), 'replay', 'the same nc again');
  t.equal(uses.use('n1', 1000, 2, 1002), 'fresh');
  t.equal(uses.use('n1', 1000, 5, 1003), 'fresh', 'gaps are allowed (requests may be lost)');
  t.equal(uses.use('n1', 1000, 3, 1004), 'replay', 'a lower nc');
  t.equal(uses.use('n2', 1000, 1, 1005), 'fresh', 'each nonce counts on its own');
  t.equal(uses.size, 2);
});

t.test('without qop (no nc) a nonce is good for one request', async (t) => {
  const uses = new NonceUseTable(TTL_MS);
  t.equal(uses.use('n1', 1000, undefined, 1000), 'fresh');
  t.equal(uses.use('n1', 1000, undefined, 1001), 'replay');
  t.equal(uses.use('n1', 1000, 2, 1002), 'replay', 'nor with an nc afterwards');
});

t.test('entries expire with the nonce lifetime', async (t) => {
  const uses = new NonceUseTable(TTL_MS);
  uses.use('n1', 1000, 1, 1000);
  uses.use('n2', 30_000, 1, 30_000);
  t.equal(uses.size, 2);
  uses.use('n3', 61_001, 1, 61_001);
  t.equal(uses.size, 2, 'n1 (issued 60 001 ms ago) is forgotten');
  uses.use('n4', 120_000, 1, 120_000);
  t.equal(uses.size, 2, 'n2 too');
});

t.test(`at most ${MAX_TRACKED_NONCES_COUNT} entries; a dropped nonce still counts as used`, async (t) => {
  t.equal(MAX_TRACKED_NONCES_COUNT, 10_000);
  const uses = new NonceUseTable(TTL_MS, 3);
  uses.use('a', 1000, 1, 1000);
  uses.use('b', 1001, 1, 1001);
  uses.use('c', 1002, 1, 1002);
  uses.use('d', 1003, 1, 1003);
  t.equal(uses.size, 3, 'the oldest entry was dropped');
  t.equal(uses.use('a', 1000, 2, 1004), 'replay', 'a nonce issued no later than a dropped one cannot start again');
  t.equal(uses.use('e', 999, 1, 1005), 'replay', 'nor an older unseen one');
  t.equal(uses.use('f', 1004, 1, 1006), 'fresh', 'a newer one can');
  t.equal(uses.size, 3);
});

t.test('nonces are unique per challenge and carry their issue time', async (t) => {
  const key = Buffer.alloc(32, 1);
  const a = makeNonce(key, 1_000_000);
  const b = makeNonce(key, 1_000_000);
  t.not(a, b, 'two challenges in the same millisecond get different nonces');
  t.equal(nonceIssuedMs(key, a, 1_000_500, TTL_MS), 1_000_000);
  t.equal(nonceIssuedMs(key, a, 1_060_001, TTL_MS), undefined, 'expired');
  t.equal(nonceIssuedMs(Buffer.alloc(32, 2), a, 1_000_000, TTL_MS), undefined, 'other key');
  t.ok(checkNonce(key, b, 1_000_000, TTL_MS));
  const forged = a.replace(/^[0-9a-f]+/, (1_050_000).toString(16));
  t.notOk(checkNonce(key, forged, 1_050_000, TTL_MS), 'the issue time is under the MAC');
});
