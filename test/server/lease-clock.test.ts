// The leader's lease expiry clock: expiry, renew, remaining TTL, a new leader
// restarting every lease at its full TTL, and bounded revokes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseClock } from '../../src/server/lease-clock.js';

const a = { id: 1, ttl: 5 };
const b = { id: 2, ttl: 10 };

test('a follower decides nothing; a leader expires leases at their TTL unless renewed', () => {
  const c = new LeaseClock();
  c.sync([a, b], false, 0);
  assert.deepEqual(c.takeExpired(100_000, 10), []);
  assert.equal(c.renew(a, 0), 0);
  assert.equal(c.remaining(a, 0), -1);
  c.sync([a, b], true, 1000);
  assert.equal(c.remaining(a, 1000), 5);
  assert.equal(c.remaining(a, 3500), 3);
  assert.deepEqual(c.takeExpired(5999, 10), []);
  assert.equal(c.renew(b, 5000), 10);
  assert.deepEqual(c.takeExpired(6000, 10), [1]);
  assert.deepEqual(c.takeExpired(6000, 10), [], 'a lease being revoked is not proposed twice');
  assert.equal(c.renew(a, 6000), 0, 'an expired lease cannot be renewed');
  assert.deepEqual(c.takeExpired(15_000, 10), [2]);
});

test('a new leader restarts every lease at its full TTL rather than expiring it at once', () => {
  const c = new LeaseClock();
  c.sync([a], true, 0);
  c.sync([a], false, 3000);
  c.sync([a], true, 20_000);
  assert.deepEqual(c.takeExpired(20_000, 10), []);
  assert.equal(c.remaining(a, 20_000), 5);
  assert.deepEqual(c.takeExpired(25_000, 10), [1]);
});

test('revoked leases leave the clock; a failed revoke is tried again; revokes per pass are bounded', () => {
  const c = new LeaseClock();
  const many = Array.from({ length: 30 }, (_, i) => ({ id: i + 1, ttl: 1 }));
  c.sync(many, true, 0);
  assert.equal(c.takeExpired(1000, 16).length, 16);
  assert.equal(c.revokesInFlight, 16);
  c.sync(many.slice(16), true, 1000);
  assert.equal(c.revokesInFlight, 0);
  const next = c.takeExpired(1000, 16);
  assert.equal(next.length, 14);
  c.revokeFailed(next[0] as number);
  assert.deepEqual(c.takeExpired(1000, 16), [next[0]]);
});
