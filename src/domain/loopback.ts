import { isIPv4 } from 'node:net';

/**
 * Whether a host name or address names this machine's loopback interface: `localhost` (and `*.localhost`,
 * RFC 6761), 127.0.0.0/8, `::1`, and IPv4-mapped 127.x (`::ffff:127.0.0.1`, as a dual-stack socket reports it).
 */
export function isLoopback(hostOrAddress: string): boolean {
  const host = hostOrAddress.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return isIPv4(v4) && v4.startsWith('127.');
}
