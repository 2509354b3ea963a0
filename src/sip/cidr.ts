/**
 * Address allow lists: CIDR blocks (IPv4 and IPv6) or single addresses, checked with node's
 * BlockList, which also matches IPv4-mapped IPv6 sources (::ffff:192.0.2.1) against IPv4 blocks.
 */
import { BlockList, isIP } from 'node:net';

/** A compiled allow list. `bad` lists entries that were not addresses or CIDR blocks (skipped). */
export interface AllowList {
  has(address: string): boolean;
  bad: string[];
}

/** Compiles `['192.0.2.0/24', '2001:db8::/32', '198.51.100.7']` into an {@link AllowList}. */
export function compileAllowList(entries: readonly string[]): AllowList {
  const list = new BlockList();
  const bad: string[] = [];
  for (const raw of entries) {
    const [addr, prefixText, extra] = raw.trim().split('/');
    const family = isIP(addr ?? '');
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (family === 0 || extra !== undefined || !/^\d{1,3}$/.test(String(prefix)) || prefix > max) { bad.push(raw); continue; }
    list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    bad,
    has(address: string): boolean {
      const a = address.replace(/^\[|\]$/g, '');
      const family = isIP(a);
      if (family === 0) return false;
      return list.check(a, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
