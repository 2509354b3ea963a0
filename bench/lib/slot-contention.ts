// Claims of the cluster's shared limits (src/store/shared-limits.ts) from several nodes at once:
// used by test/integration/store/issue-13-cluster-store.test.ts and bench/cluster.ts.
import type { SharedLimits, SlotClaim } from '../../src/store/shared-limits.js';

export interface ContentionFigures {
  /** Claims answered. */
  done: number;
  granted: number;
  /** Most calls held at once (counted as claims resolve, released before the row is deleted: never more than the store holds). */
  maxHeld: number;
  maxTrunk: number;
  perSec: number;
  /** Claim latency p50 / p99 (ms). */
  p50: number;
  p99: number;
}

/**
 * `workers` concurrent callers per node (one SharedLimits per node) claim and release slots of one
 * tenant (half of them also of one trunk), holding each 20–39 ms, for `rounds` claims in all
 * (bounded by 30 s).
 */
export async function contend(limits: SharedLimits[], o: { workers: number; rounds: number; tenantMax: number; trunkMax: number }): Promise<ContentionFigures> {
  let held = 0; let heldTrunk = 0; let maxHeld = 0; let maxTrunk = 0; let done = 0; let granted = 0; let seq = 0; let begun = 0;
  const lat: number[] = [];
  const started = process.hrtime.bigint();
  const deadline = Date.now() + 30_000;
  const worker = async (node: number) => {
    const l = limits[node];
    while (begun++ < o.rounds && Date.now() < deadline) {
      const id = `c${++seq}`;
      const onTrunk = seq % 2 === 0;
      const claim: SlotClaim = {
        callId: id, nodeId: `n${node}`, tenant: 'acme', trunk: onTrunk ? 'operator' : null, campaignId: null, atMs: Date.now(),
        tenantMax: o.tenantMax, tenantPerDay: null, trunkMax: o.trunkMax, campaignMax: null, reserve: 0,
      };
      const t0 = performance.now();
      const refused = await l.claim(claim);
      lat.push(performance.now() - t0);
      done++;
      if (refused) continue;
      granted++;
      held++; maxHeld = Math.max(maxHeld, held);
      if (onTrunk) { heldTrunk++; maxTrunk = Math.max(maxTrunk, heldTrunk); }
      await new Promise((r) => setTimeout(r, 20 + (seq % 20)));
      held--;
      if (onTrunk) heldTrunk--;
      await l.release(id);
    }
  };
  await Promise.all(limits.flatMap((_l, node) => Array.from({ length: o.workers }, () => worker(node))));
  const sec = Number(process.hrtime.bigint() - started) / 1e9;
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  return { maxHeld, maxTrunk, done, granted, perSec: Math.round(done / sec), p50: q(0.5), p99: q(0.99) };
}
