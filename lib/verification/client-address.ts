import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';

/** IPv6 clients are grouped by this prefix unless the options say otherwise. */
export const DEFAULT_IPV6_PREFIX_LENGTH = 64;

/** Where callers without an address are counted, all together: a defence is never silently off. */
export const UNKNOWN_ADDRESS = 'unknown-address';

/**
 * The key under which a client address is counted (failed logins, token
 * lookups, failures of the auth-service): an IPv4 address as it is, an IPv6
 * address by its prefix, because one host usually holds a whole /64 and could
 * otherwise get a fresh counter per address. An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, what a dual-stack socket reports) counts as its IPv4
 * address. Something that is not an address (a custom `request.ip`) is used as
 * it is; `undefined` when there is none.
 */
export function clientKey(address: unknown, ipv6PrefixLength: number): string | undefined {
  if (typeof address !== 'string' || address === '') return undefined;
  // Parsing an address costs more than verifying a token's signature: each is parsed once.
  const memo = `${ipv6PrefixLength} ${address}`;
  let key = groupedAddresses.get(memo);
  if (key === undefined) {
    key = groupOf(address, ipv6PrefixLength);
    groupedAddresses.set(memo, key);
  }
  return key;
}

/** Addresses grouped lately, by prefix length and address; bounded, the least recently used go first. */
const groupedAddresses = new LRUCache<string, string>({ max: 10_000 });

function groupOf(address: string, ipv6PrefixLength: number): string {
  // A zone index (`fe80::1%eth0`) names the interface, not the host.
  const text = address.replace(/%.*$/, '');
  if (!ipaddr.isValid(text)) return address;
  let parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const bytes = parsed.toByteArray();
  for (let bit = ipv6PrefixLength; bit < 128; bit++) {
    bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${ipv6PrefixLength}`;
}
