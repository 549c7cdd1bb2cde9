import { BlockList, isIP } from 'node:net';

/**
 * Which addresses outbound requests (feed fetches and each of their redirects, webhooks, test-connection, notify)
 * may reach. Link-local, metadata, unspecified, multicast and broadcast addresses are refused always; loopback and
 * private ranges unless the operator allows them (`network.allow_private`, `network.allow_cidrs`).
 */
export type NetworkPolicy = {
  readonly allowPrivate: boolean;
  /** Ranges the operator allowed one by one (`10.1.0.0/16`, `127.0.0.1`); never opens an always-refused range. */
  readonly allowed: BlockList;
};

export type NetworkSettings = { readonly allow_private: boolean; readonly allow_cidrs: readonly string[] };

type Range = readonly [address: string, prefix: number, why: string];

/** Cloud metadata services that sit inside ranges an operator may allow (Alibaba Cloud, AWS over IPv6). */
const METADATA: readonly Range[] = [
  ['100.100.100.200', 32, 'cloud metadata'],
  ['fd00:ec2::254', 128, 'cloud metadata'],
];

const ALWAYS_REFUSED_V4: readonly Range[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['169.254.0.0', 16, 'link-local, where cloud metadata lives'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved or broadcast'],
];
const ALWAYS_REFUSED_V6: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['fe80::', 10, 'link-local'],
  ['ff00::', 8, 'multicast'],
];
const PRIVATE_V4: readonly Range[] = [
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'shared address space (carrier-grade NAT)'],
];
const PRIVATE_V6: readonly Range[] = [
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'private (unique local)'],
  ['fec0::', 10, 'private (site-local)'],
];

/** IPv4 ranges also reached through the NAT64 prefix 64:ff9b::/96 (IPv4-mapped ::ffff:0:0/96 is handled by BlockList). */
const viaNat64 = (ranges: readonly Range[]): Range[] =>
  ranges.map(([address, prefix, why]) => [`64:ff9b::${address}`, 96 + prefix, why]);

function rangeList(ranges: readonly Range[]): Array<{ list: BlockList; why: string }> {
  return ranges.map(([address, prefix, why]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, isIP(address) === 6 ? 'ipv6' : 'ipv4');
    return { list, why };
  });
}

const ALWAYS_REFUSED = rangeList([
  ...METADATA,
  ...ALWAYS_REFUSED_V4,
  ...viaNat64(ALWAYS_REFUSED_V4),
  ...ALWAYS_REFUSED_V6,
]);
const PRIVATE = rangeList([...PRIVATE_V4, ...viaNat64(PRIVATE_V4), ...PRIVATE_V6]);

/** Builds the policy from config; a malformed CIDR is a message naming it (the config loader reports it). */
export function networkPolicy(settings: NetworkSettings): NetworkPolicy {
  const allowed = new BlockList();
  for (const cidr of settings.allow_cidrs) {
    const parsed = parseCidr(cidr);
    if (typeof parsed === 'string') throw new Error(parsed);
    allowed.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return Object.freeze({ allowPrivate: settings.allow_private, allowed });
}

/** `a.b.c.d/n`, `x::y/n` or a single address; a string is the reason it is not one. */
export function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | string {
  const [address = '', prefixText, ...rest] = cidr.trim().split('/');
  const version = isIP(address);
  const max = version === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (version === 0 || rest.length > 0 || !(prefix >= 0 && prefix <= max))
    return `'${cidr}' is not an IP address or CIDR range (e.g. 10.1.0.0/16, 127.0.0.1, fd12::/64)`;
  return { address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' };
}

/** Why `address` (an IP literal) may not be reached, or undefined when it may. */
export function refusalReason(address: string, policy: NetworkPolicy): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  const version = isIP(bare);
  if (version === 0) return `'${address}' is not an IP address`;
  const family = version === 6 ? 'ipv6' : 'ipv4';
  const always = ALWAYS_REFUSED.find((r) => r.list.check(bare, family));
  if (always) return `address ${bare} is not allowed (${always.why}; refused always)`;
  const restricted = PRIVATE.find((r) => r.list.check(bare, family));
  if (!restricted || policy.allowPrivate || policy.allowed.check(bare, family)) return undefined;
  return `address ${bare} is not allowed (${restricted.why}; set network.allow_private or list it in network.allow_cidrs to reach it)`;
}

/** A request refused by the network policy before any connection was made. */
export class AddressRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}
