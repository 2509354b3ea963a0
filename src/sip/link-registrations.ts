/**
 * Trunk registrations tied to the drachtio link: they start when the link first comes up and
 * are redone after every reconnect, because a restarted drachtio-server has lost the
 * transactions and its SIP address may have changed (the Contact registered before may be stale).
 * The old set is stopped (unregister, bounded by requestTimeoutMs) before the new one starts, so
 * the two never race on the same binding.
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

  /** Stops following the link and unregisters. Idempotent. */
  async stop(): Promise<void> {
    if (this.closed) return this.chain;
    this.closed = true;
    this.link.off('connected', this.onConnected);
    this.chain = this.chain.then(async () => { await this.current?.stop(); this.current = undefined; });
    return this.chain;
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    const old = this.current;
    this.current = undefined;
    if (old) await old.stop();
    if (this.closed) return;
    this.generation++;
    this.current = new RegistrationManager(this.configs, { ...this.o, srf: this.link.srf });
    this.current.start();
  }
}
