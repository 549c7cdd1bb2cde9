import { describe, expect, it } from 'vitest';
import { networkPolicy, parseCidr, refusalReason } from '../../src/net/address-policy.js';

const closed = networkPolicy({ allow_private: false, allow_cidrs: [] });
const open = networkPolicy({ allow_private: true, allow_cidrs: [] });
const listed = networkPolicy({ allow_private: false, allow_cidrs: ['127.0.0.1', '192.168.1.0/24', 'fd12::/64'] });

describe('network policy: addresses', () => {
  it.each([
    '169.254.169.254',
    '169.254.0.1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a9fe:a9fe',
    'fe80::1',
    'febf::1',
    '100.100.100.200',
    'fd00:ec2::254',
    '0.0.0.0',
    '::',
    '224.0.0.1',
    'ff02::1',
    '255.255.255.255',
    '240.0.0.1',
  ])('refuses %s always, whatever the config allows', (address) => {
    for (const policy of [closed, open, networkPolicy({ allow_private: true, allow_cidrs: ['0.0.0.0/0', '::/0'] })]) {
      expect(refusalReason(address, policy)).toMatch(
        new RegExp(`^address ${address.replaceAll('.', '\\.')} is not allowed \\(.*refused always\\)$`),
      );
    }
  });

  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '100.64.0.1',
    'fc00::1',
    'fd12::1',
    '64:ff9b::a00:1',
  ])('refuses private %s by default and allows it with network.allow_private', (address) => {
    expect(refusalReason(address, closed)).toMatch(
      /is not allowed \(.*set network\.allow_private or list it in network\.allow_cidrs/,
    );
    expect(refusalReason(address, open)).toBeUndefined();
  });

  it('allows exactly the listed ranges, also in their IPv4-mapped IPv6 form', () => {
    expect(refusalReason('127.0.0.1', listed)).toBeUndefined();
    expect(refusalReason('::ffff:127.0.0.1', listed)).toBeUndefined();
    expect(refusalReason('127.0.0.2', listed)).toMatch(/loopback/);
    expect(refusalReason('192.168.1.200', listed)).toBeUndefined();
    expect(refusalReason('192.168.2.1', listed)).toMatch(/private/);
    expect(refusalReason('fd12::8', listed)).toBeUndefined();
    expect(refusalReason('fd13::8', listed)).toMatch(/unique local/);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '[2001:db8::1]'])(
    'allows public %s',
    (address) => {
      expect(refusalReason(address, closed)).toBeUndefined();
    },
  );

  it('parses CIDRs and single addresses, and names a bad one', () => {
    expect(parseCidr('10.1.0.0/16')).toEqual({ address: '10.1.0.0', prefix: 16, family: 'ipv4' });
    expect(parseCidr('fd12::/64')).toEqual({ address: 'fd12::', prefix: 64, family: 'ipv6' });
    expect(parseCidr('127.0.0.1')).toEqual({ address: '127.0.0.1', prefix: 32, family: 'ipv4' });
    for (const bad of ['10.1.0.0/33', 'fd12::/129', 'lan', '10.0.0.0/8/1', '10.0.0/8', '10.0.0.0/x'])
      expect(parseCidr(bad)).toMatch(/is not an IP address or CIDR range/);
  });
});
