import { describe, expect, it } from 'vitest';
import { clientKey } from '../../lib/verification/client-address.js';
import { foldUsername } from '../../lib/login/login-attempt.limiter.js';

describe('clientKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80::/64'],
    ['::1', '::/64'],
  ])('%s counts as %s', (address, key) => {
    expect(clientKey(address, 64)).toBe(key);
  });

  it('groups by the prefix it is given', () => {
    expect(clientKey('2001:db8:7:1::1', 48)).toBe('2001:db8:7::/48');
    expect(clientKey('2001:db8:7:1::1', 128)).toBe('2001:db8:7:1::1/128');
    expect(clientKey('2001:db8:7:1::1', 1)).toBe('::/1');
  });

  it('takes what is not an address as it is, and nothing as nothing', () => {
    expect(clientKey('gateway-7', 64)).toBe('gateway-7');
    expect(clientKey(undefined, 64)).toBeUndefined();
    expect(clientKey('', 64)).toBeUndefined();
  });
});

describe('foldUsername', () => {
  it('folds case, compatibility forms and surrounding spaces into one name', () => {
    const variants = ['Sam', ' sam ', 'ｓａｍ', 'ＳＡＭ', '\u3000sam', 'SAM\t'];
    expect(new Set(variants.map(foldUsername))).toEqual(new Set(['sam']));
    expect(foldUsername('straße')).toBe(foldUsername('STRASSE'));
    // ẞ folds to ß first, and only then to ss: folded until nothing changes.
    expect(foldUsername('STRAẞE')).toBe(foldUsername('strasse'));
    // What Python's strip() strips and JavaScript's trim() keeps.
    for (const end of [
      '\u001c',
      '\u001d',
      '\u001e',
      '\u001f',
      '\u0085',
      '\u001c\u001c',
      ' \u0085 ',
    ]) {
      expect(foldUsername(`editor${end}`), JSON.stringify(end)).toBe('editor');
    }
  });

  it('keeps different names apart', () => {
    expect(foldUsername('sam')).not.toBe(foldUsername('sam2'));
    expect(foldUsername('s am')).not.toBe(foldUsername('sam'));
  });
});
