/**
 * Trunk registrations tied to the drachtio link: they start when the link first comes up and
 * are redone at once after every reconnect, because a restarted drachtio-server has lost the
 * transactions and its SIP address may have changed. The old set is abandoned, not unregistered:
 * the new REGISTER replaces the binding (same Contact), and waiting for un-REGISTER answers that
 * may never come (a registrar that is down) would leave the trunks unregistered meanwhile. stop()
 * unregisters while the link is up (each trunk bounded by unregisterTimeoutMs), and only abandons
 * when it is down.
 */
import type { DrachtioLink } from './drachtio-link.js';
import { RegistrationManager, type RegistrationOptions, type TrunkRegistrationConfig, type TrunkRegistrationStatus } from './registration.js';

/** Registrations that follow a {@link DrachtioLink}. */
export class LinkedRegistrations {
  private current?: RegistrationManager;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onConnected = (): void => { this.chain = this.chain.then(() => this.renew()); };
  private generation = 0;

  constructor(
    private readonly link: DrachtioLink,
    private readonly configs: TrunkRegistrationConfig[],
    private readonly o: Omit<RegistrationOptions, 'srf'> & { staggerMs?: number },
  ) {}

  /** How many times the set was (re)started; 1 after the first connection. */
  get starts(): number { return this.generation; }

  /** Starts following the link (registers now if it is already up). */
  start(): void {
    this.link.on('connected', this.onConnected);
    if (this.link.connected) this.onConnected();
  }

  /** Status of every trunk (empty before the first connection). */
  status(): TrunkRegistrationStatus[] {
    return this.current?.status() ?? [];
  }

  /** Stops following the link and unregisters (abandons when the link is down). Idempotent. */
  async stop(): Promise<void> {
    if (this.closed) return this.chain;
    this.closed = true;
    this.link.off('connected', this.onConnected);
    this.chain = this.chain.then(async () => {
      if (this.link.connected) await this.current?.stop();
      else this.current?.abandon();
      this.current = undefined;
    });
    return this.chain;
  }

  /**
   * Stops following the link and abandons the registrations without unregistering: another node
   * of a cluster now refreshes the same bindings. Idempotent.
   */
  abandon(): Promise<void> {
    if (this.closed) return this.chain;
    this.closed = true;
    this.link.off('connected', this.onConnected);
    this.chain = this.chain.then(() => {
      this.current?.abandon();
      this.current = undefined;
    });
    return this.chain;
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    this.current?.abandon();
    this.generation++;
    this.current = new RegistrationManager(this.configs, { ...this.o, srf: this.link.srf });
    this.current.start();
  }
}
