// The figures of the three-node run (test/real/issue-13-scale-out.real.test.ts writes them when
// FSBRIDGE_SCALE_REPORT names a file; bench/cluster.ts turns them into docs/benchmarks.md's section).

export interface ScaleReport {
  nodes: string[];
  leaseSec: number;
  trunkMax: number;
  inbound: { calls: number; cps: number; holdMs: number; perNode: number[]; sippExit: number | null };
  campaign: {
    contacts: number; attemptsPerNode: Record<string, number>; invites: number; numbers: number; duplicates: number;
    peakTrunk: number; final: Record<string, number>; notPlaced: number;
  };
  kill: {
    node: string; inFlight: number; leased: number; duringKill: { calls: number; sippExit: number | null; answered: number };
    outOfRotationMs: number; takeoverMs: number; reRegisteredMs: number; closedCalls: number; resolvedAttempts: number;
  };
}
