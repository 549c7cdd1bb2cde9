import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { AddressRefusedError, refusalReason, type NetworkPolicy } from './address-policy.js';

/**
 * A `lookup` for sockets that resolves the name, checks EVERY address it resolves to, and hands the socket only
 * addresses it checked: the connection goes where the check looked, so a name that answers a public address to a
 * first query and 169.254.169.254 to the next (DNS rebinding) cannot slip through.
 */
export function guardedLookup(policy: NetworkPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = firstRefusal(hostname, addresses, policy);
      if (refused) return callback(refused, '', 0);
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

function firstRefusal(
  hostname: string,
  addresses: readonly LookupAddress[],
  policy: NetworkPolicy,
): AddressRefusedError | undefined {
  for (const { address } of addresses) {
    const reason = refusalReason(address, policy);
    if (reason) return new AddressRefusedError(`${hostname}: ${reason}`);
  }
  return undefined;
}

/**
 * What can be checked before connecting: the scheme, and the address when the URL names one (sockets skip
 * `lookup` for an IP literal, so this is where literals are checked). Throws AddressRefusedError.
 */
export function checkUrlTarget(url: URL, policy: NetworkPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new AddressRefusedError(`${url.protocol} URLs are not allowed, only http and https`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0) return;
  const reason = refusalReason(host, policy);
  if (reason) throw new AddressRefusedError(reason);
}

/**
 * Checks a URL in full without connecting: scheme, literal address, or every address its name resolves to now.
 * For a clear answer up front (test-connection, saving a webhook URL); the connection itself is still guarded by
 * `guardedLookup`, since the name may resolve differently later.
 */
export async function checkUrl(url: string | URL, policy: NetworkPolicy): Promise<void> {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  checkUrlTarget(parsed, policy);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return;
  await new Promise<void>((resolve, reject) => {
    guardedLookup(policy)(host, { all: true }, (error) => (error ? reject(error) : resolve()));
  });
}
