import { isIPv4 } from 'node:net';

/** A parsed CIDR (IPv4 or IPv6). */
interface Cidr { v6: boolean; bits: bigint; prefix: number }

function toBig(ip: string): { v6: boolean; n: bigint } | undefined {
  let a = ip;
  if (a.startsWith('::ffff:') && isIPv4(a.slice(7))) a = a.slice(7);
  if (isIPv4(a)) {
    const n = a.split('.').reduce((acc, p) => (acc << 8n) + BigInt(Number(p)), 0n);
    return { v6: false, n };
  }
  if (!a.includes(':')) return undefined;
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array(Math.max(0, fill)).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return { v6: true, n: groups.reduce((acc, g) => (acc << 16n) + BigInt(Number.parseInt(g || '0', 16)), 0n) };
}

function parseCidr(s: string): Cidr | undefined {
  const [ip, pre] = s.split('/');
  const b = toBig(ip);
  if (!b) return undefined;
  const max = b.v6 ? 128 : 32;
  const prefix = pre === undefined ? max : Number(pre);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { v6: b.v6, bits: b.n, prefix };
}

/**
 * The inbound ACL: a remote address must be inside one of the CIDRs (an empty list or the word
 * `loopback.auto` means 127.0.0.0/8 and ::1, FreeSWITCH's default).
 */
export class Acl {
  private readonly cidrs: Cidr[];
  constructor(list: readonly string[] | undefined) {
    const expanded = (list && list.length ? list : ['loopback.auto']).flatMap((x) => (x === 'loopback.auto' ? ['127.0.0.0/8', '::1/128'] : [x]));
    this.cidrs = expanded.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  }

  allows(ip: string | undefined): boolean {
    if (!ip) return false;
    const b = toBig(ip);
    if (!b) return false;
    for (const c of this.cidrs) {
      if (c.v6 !== b.v6) continue;
      const width = BigInt(c.v6 ? 128 : 32);
      const shift = width - BigInt(c.prefix);
      if (b.n >> shift === c.bits >> shift) return true;
    }
    return false;
  }
}
