import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import type { StoreWriter } from '../store/writer.js';
import { SharedLimits, type SlotClaim, type SlotRefusal } from '../store/shared-limits.js';
import { beat, deadNodes, nodesToAdopt, takeOverNode } from '../store/node-rows.js';

/** How often a node marks itself alive in the store (the end given to calls it leaves open in a crash), in ms; a node of a cluster beats more often. */
export const HEARTBEAT_MS = 10_000;

/** The `application_name` of a node's trunk registrar session (registrar-lease.ts), which its takeover ends. */
export function registrarApplicationName(nodeId: string): string {
  return `fsbridge-registrar:${nodeId}`.slice(0, 63);
}

export interface ClusterNodeOptions {
  nodeId: string;
  /** cluster.leaseSec in ms: a node not seen for this long is dead. */
  leaseMs: number;
  store: () => Store;
  writer: StoreWriter;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Resolves a dead node's open campaign attempts once its calls are closed; returns how many. */
  adoptAttempts: (node: string) => Promise<number>;
}

/**
 * This node's part in a cluster of nodes sharing one PostgreSQL store (config `cluster`): it
 * claims each call's slots of the shared limits before the call is admitted and frees them when
 * it ends, beats more often than a lone node, and at each beat takes over the work of nodes whose
 * heartbeat is older than the lease: their calls are closed (CALL_DAEMON_CRASHED), their slots and
 * contact leases freed, their registrar session ended, their open campaign attempts resolved and
 * retried per the rules. It takes nobody over until its own heartbeats have gone through for a
 * whole lease: after a database outage every node's heartbeat is old, and the first node back
 * must not take the others for dead.
 */
export class ClusterNode {
  private readonly limits: SharedLimits;
  private takingOver = false;
  /** The heartbeat in progress (the daemon waits for it before it closes the store). */
  private beating: Promise<void> | null = null;
  /** Since when (monotonic ms) every heartbeat went through; null after a failed one. */
  private healthySinceMs: number | null = null;
  /** The claims of this node's live calls (claimed again if another node took it for dead). */
  private readonly held = new Map<string, SlotClaim>();

  constructor(private readonly o: ClusterNodeOptions) {
    this.limits = new SharedLimits(() => o.store().db, 'postgres');
  }

  /** How often the node's heartbeat is written: a third of the lease, at most HEARTBEAT_MS. */
  get heartbeatMs(): number {
    return Math.min(HEARTBEAT_MS, Math.floor(this.o.leaseMs / 3));
  }

  /** Whether the last heartbeat reached the store: without it no call can be admitted here. */
  get healthy(): boolean {
    return this.healthySinceMs !== null;
  }

  /**
   * Claims a call's slots: null when claimed, else the limit that refuses it, or
   * CLUSTER_LIMITS_UNAVAILABLE when the store cannot be asked (the call is refused: the limits
   * could not be checked across the nodes).
   */
  async claim(c: Omit<SlotClaim, 'nodeId' | 'atMs'>): Promise<SlotRefusal | 'CLUSTER_LIMITS_UNAVAILABLE' | null> {
    const claim: SlotClaim = { ...c, nodeId: this.o.nodeId, atMs: this.o.clock.wallMs() };
    let refused: SlotRefusal | null;
    try {
      refused = await this.limits.claim(claim);
    } catch (err) {
      this.o.metrics.error('CLUSTER_LIMITS_UNAVAILABLE');
      this.o.logger.error({ err, callId: c.callId, code: 'CLUSTER_LIMITS_UNAVAILABLE' }, 'call refused: the shared limits could not be read from the store');
      return 'CLUSTER_LIMITS_UNAVAILABLE';
    }
    if (refused) {
      this.o.metrics.counter('fsbridge_cluster_limit_refusals_total', 'Calls refused by a limit shared by the nodes of the cluster, by code').inc({ code: refused });
    } else {
      this.held.set(c.callId, claim);
    }
    return refused;
  }

  /** Frees a call's slots once it ended; when the store fails, the release is queued with the other writes. */
  release(callId: string): void {
    this.held.delete(callId);
    this.limits.release(callId).catch(() => this.o.writer.push({ kind: 'slot-released', callId }));
  }

  /** Frees the slots of a call refused after its claim (this node filled up meanwhile): it does not count for the day either. */
  refund(callId: string): void {
    const c = this.held.get(callId);
    this.held.delete(callId);
    if (!c) return;
    this.limits.refund(c).catch(() => this.o.writer.push({ kind: 'slot-released', callId }));
  }

  /**
   * One heartbeat: written at once (not queued behind the call records), then the dead nodes are
   * taken over. A node that finds it was taken for dead while it ran (its event loop or the
   * database stalled for longer than the lease) says so and claims its live calls' slots again;
   * their records were closed meanwhile and are completed again as the calls end.
   */
  beat(): Promise<void> {
    this.beating ??= this.beatOnce().finally(() => { this.beating = null; });
    return this.beating;
  }

  /** Resolves when no heartbeat (nor the takeover it runs) is in progress. */
  async settled(): Promise<void> {
    await this.beating;
  }

  private async beatOnce(): Promise<void> {
    let was: Awaited<ReturnType<typeof beat>>;
    try {
      was = await beat(this.o.store().db, this.o.nodeId);
    } catch (err) {
      if (this.healthySinceMs !== null) this.o.logger.warn({ err }, 'heartbeat not written (the store failed): no call is admitted here until it is');
      this.healthySinceMs = null;
      return;
    }
    this.healthySinceMs ??= this.o.clock.nowMs();
    if (was) {
      this.o.metrics.error('CLUSTER_NODE_PRESUMED_DEAD');
      this.o.logger.error({ code: 'CLUSTER_NODE_PRESUMED_DEAD', takenBy: was.takenBy, downAt: new Date(was.downAt).toISOString(), calls: this.held.size },
        'another node took this node for dead (no heartbeat within cluster.leaseSec): its live calls\' slots are claimed again');
      for (const c of [...this.held.values()]) {
        await this.limits.reinstate(c).catch(() => {});
        // the call ended meanwhile: its release may have come first
        if (!this.held.has(c.callId)) await this.limits.release(c.callId).catch(() => {});
      }
    }
    if (this.o.clock.nowMs() - this.healthySinceMs >= this.o.leaseMs) await this.takeOverDead();
  }

  /** Takes over the nodes whose heartbeat is older than the lease, and resolves what an earlier takeover left open. */
  private async takeOverDead(): Promise<void> {
    if (this.takingOver) return;
    this.takingOver = true;
    try {
      const db = this.o.store().db;
      for (const node of await deadNodes(db, this.o.nodeId, this.o.leaseMs)) {
        const calls = await takeOverNode(db, node, this.o.nodeId, this.o.leaseMs, registrarApplicationName(node));
        if (calls === null) continue; // alive again, or another node took it
        this.o.metrics.counter('fsbridge_cluster_takeovers_total', 'Dead nodes of the cluster whose work this node took over').inc();
        if (calls > 0) this.o.metrics.counter('fsbridge_calls_recovered_total', 'Calls left open by an earlier run of this node, closed at start').inc({}, calls);
        this.o.metrics.error('CLUSTER_NODE_TAKEN_OVER');
        this.o.logger.warn({ node, calls, code: 'CLUSTER_NODE_TAKEN_OVER' }, 'a node of the cluster stopped beating: its calls are closed and its campaign work taken over');
      }
      // the attempts of the nodes taken over here (now, or by a round that failed half-way)
      for (const node of await nodesToAdopt(db, this.o.nodeId)) {
        const attempts = await this.o.adoptAttempts(node);
        this.o.logger.info({ node, attempts }, 'campaign attempts of a node taken over resolved from their calls\' records');
      }
    } catch (err) {
      this.o.logger.warn({ err }, 'dead nodes could not be taken over now (the store failed); tried again at the next beat');
    } finally {
      this.takingOver = false;
    }
  }
}
