import { describe, expect, it } from 'vitest';
import { closest, didYouMean, editDistance } from '../../engine/did-you-mean.ts';

describe('did-you-mean', () => {
  it('measures edits', () => {
    expect(editDistance('asigned', 'assigned')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests the close candidate, the rule whose last part was typed, and nothing for noise', () => {
    const statuses = ['discovered', 'assigned', 'rectifying', 'rectified', 'verified'];
    expect(closest('asigned', statuses)).toBe('assigned');
    expect(closest('RECTIFYNG', statuses)).toBe('rectifying');
    expect(closest('split_payment', ['treasury.split_payment', 'treasury.no_budget'])).toBe('treasury.split_payment');
    expect(closest('treasury.split_paymnt', ['treasury.split_payment', 'treasury.no_budget'])).toBe('treasury.split_payment');
    expect(closest('zzzzzzzz', statuses)).toBeUndefined();
    expect(didYouMean('asigned', statuses)).toBe('; did you mean "assigned"?');
    expect(didYouMean('qqq', statuses)).toBe('');
  });
});
