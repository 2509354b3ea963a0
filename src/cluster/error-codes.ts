import type { ErrorTable } from '../errors.js';

export const CLUSTER_ERRORS = {
  CLUSTER_LIMITS_UNAVAILABLE: { meaning: 'On a node of a cluster (config cluster), the shared limits could not be read from PostgreSQL when a call arrived.', consequence: 'The call is refused (SIP 503, HTTP 503; a campaign contact is tried again 5 s later): the tenant, trunk and campaign limits cannot be kept across the nodes without the store.' },
  CLUSTER_NODE_TAKEN_OVER: { meaning: 'A node of the cluster stopped beating for cluster.leaseSec (crash, kill, power loss, cut off from the database), and this node took its work over.', consequence: 'Its live calls are closed as CALL_DAEMON_CRASHED, its slots of the shared limits and its campaign contact leases are freed, its open campaign attempts are resolved from their calls\' records and retried per the campaign\'s rules; counted in fsbridge_cluster_takeovers_total.' },
  CLUSTER_NODE_PRESUMED_DEAD: { meaning: 'This node found, at its heartbeat, that another node had taken it for dead: it wrote no heartbeat for cluster.leaseSec while it ran (its event loop or the database stalled that long).', consequence: 'Its live calls go on, but their records were closed (CALL_DAEMON_CRASHED) and are completed again as they end; their slots of the shared limits were freed, so the limits may be passed until they end. Raise cluster.leaseSec or find the stall.' },
  CLUSTER_LISTENER_THREW: { meaning: 'A listener of the trunk registrar lease threw (a bug).', consequence: 'Logged and counted; the lease goes on.' },
} satisfies ErrorTable;
