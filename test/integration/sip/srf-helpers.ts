// Helpers to drive drachtio-srf against the twin in tests.
import Srf from 'drachtio-srf';
import { DrachtioTwin, type DrachtioTwinOptions } from '../../../src/sim/drachtio/twin.js';
import { silentLogger } from '../../../src/observability/logger.js';

export async function startTwin(extra: Partial<DrachtioTwinOptions> = {}): Promise<DrachtioTwin> {
  const twin = new DrachtioTwin({ adminPort: 0, sipPort: 0, secret: 'cymru', logger: silentLogger(), ...extra });
  await twin.start();
  return twin;
}

/** Connects srf; resolves with [err, hostport]. Reconnection is disabled so a bad secret ends it. */
export function connectSrf(twin: DrachtioTwin, secret = 'cymru'): Promise<{ srf: any; err?: Error; hostport?: string; version?: string }> {
  const srf: any = new (Srf as any)();
  return new Promise((resolve) => {
    srf.on('error', () => {});
    srf.once('connect', (err: Error | undefined, hostport: string, version: string) => resolve({ srf, err: err ?? undefined, hostport, version }));
    srf.connect({ host: '127.0.0.1', port: twin.adminPort, secret, reconnect: { maxAttempts: 1, retryMaxDelay: 100 } });
  });
}
