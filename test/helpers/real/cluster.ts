// A node of a cluster as an operator runs it: its own real FreeSWITCH, real drachtio-server and
// `fsbridge run` (config `cluster`), all nodes sharing one PostgreSQL store. kill() ends the three
// processes with SIGKILL at once, as a power cut would.
import type { Test } from 'tap';
import { RealFreeswitch } from './freeswitch.js';
import { RealDrachtio } from './drachtio.js';
import { DaemonProcess } from './daemon-process.js';

export interface ClusterNodeOptions {
  /** store.url and the password of the shared PostgreSQL database. */
  pgUrl: string;
  pgPassword: string;
  /** cluster.leaseSec. */
  leaseSec: number;
  /** cluster.sipAddress (the load balancer). */
  sipAddress?: string;
  /** bots, trunks, routes, tenants (the same on every node). */
  yaml: string;
}

export class RealClusterNode {
  private constructor(readonly name: string, readonly fs: RealFreeswitch, readonly drachtio: RealDrachtio, readonly daemon: DaemonProcess) {}

  /** Starts the node's three programs; stopped in teardown. */
  static async start(t: Test, name: string, o: ClusterNodeOptions): Promise<RealClusterNode> {
    const drachtio = await RealDrachtio.start(t, `secret-${name}`);
    const fs = await RealFreeswitch.start(t, { rtpPorts: 200 });
    const daemon = await DaemonProcess.start(t, {
      fs, drachtio, playback: 'file',
      yaml: `${o.yaml}\ncluster: { leaseSec: ${o.leaseSec}${o.sipAddress ? `, sipAddress: "${o.sipAddress}"` : ''} }\n`,
      storeUrl: o.pgUrl, storeYaml: `password: env:FSBRIDGE_DB_PASSWORD, nodeId: ${name}`,
      env: { FSBRIDGE_DB_PASSWORD: o.pgPassword },
    });
    return new RealClusterNode(name, fs, drachtio, daemon);
  }

  /** drachtio-server's SIP address: the node's entry in the dispatcher list. */
  get sipUri(): string {
    return `sip:127.0.0.1:${this.drachtio.sipPort}`;
  }

  /** SIGKILL to fsbridge, drachtio-server and FreeSWITCH. */
  async kill(): Promise<void> {
    this.drachtio.kill();
    this.fs.kill();
    await this.daemon.proc.stop('SIGKILL');
  }
}
