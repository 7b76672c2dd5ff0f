/** The edge node's revocation store (security defect 1), pure: what it refuses, and for how long. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RevocationLedger } from '../../control/src/revocation-ledger.js';
import { RevocationStore } from '../../edge-node/src/auth/revocations.js';
import { MAX_JOIN_TOKEN_TTL_SECONDS } from '../../edge-node/protocol/join-token.js';
import { CloseCodes } from '../../edge-node/protocol/signalling.js';

const T = 1_800_000_000;

test('remove refuses that participant\'s tokens issued before it, until they have all expired', () => {
  const s = new RevocationStore({ skewSeconds: 30 });
  assert.equal(s.add({ mtg: 'm', cmd: { act: 'remove', target: 'p' }, iat: T }), true);
  assert.equal(s.check({ mtg: 'm', sub: 'p', iat: T - 100 }, T)?.code, CloseCodes.removed);
  assert.equal(s.check({ mtg: 'm', sub: 'p', iat: T + 30 }, T)?.code, CloseCodes.removed, 'within the clock skew');
  assert.equal(s.check({ mtg: 'm', sub: 'p', iat: T + 31 }, T + 31), null, 'a token issued after the removal (re-admitted)');
  assert.equal(s.check({ mtg: 'm', sub: 'q', iat: T - 100 }, T), null, 'others');
  assert.equal(s.check({ mtg: 'other', sub: 'p', iat: T - 100 }, T), null, 'other meetings');
  const lastValid = T + 30 + MAX_JOIN_TOKEN_TTL_SECONDS;
  assert.equal(s.check({ mtg: 'm', sub: 'p', iat: T }, lastValid)?.code, CloseCodes.removed, 'kept while a matching token may live');
  s.prune(lastValid + 1);
  assert.equal(s.size, 0, 'dropped once every token it could match has expired');
});

test('end refuses every token of the meeting issued before it; other commands revoke nothing', () => {
  const s = new RevocationStore();
  assert.equal(s.add({ mtg: 'm', cmd: { act: 'mute', target: 'p' }, iat: T }), false);
  assert.equal(s.add({ mtg: 'm', cmd: { act: 'muteAll', except: [] }, iat: T }), false);
  assert.equal(s.size, 0);
  s.add({ mtg: 'm', cmd: { act: 'end' }, iat: T });
  assert.deepEqual(s.check({ mtg: 'm', sub: 'anyone', iat: T - 1 }, T), { code: CloseCodes.meetingEnded, reason: 'the meeting has ended' });
  // A replayed or older copy never shortens what is kept.
  s.add({ mtg: 'm', cmd: { act: 'end' }, iat: T - 1000 });
  assert.equal(s.check({ mtg: 'm', sub: 'x', iat: T + 10 }, T + 10)?.code, CloseCodes.meetingEnded);
});

test('the control plane keeps a signed revocation exactly as long as the nodes do (to republish it to late nodes)', () => {
  const ledger = new RevocationLedger();
  const store = new RevocationStore();
  ledger.add('signed-remove', T);
  ledger.add('signed-end', T + 100);
  store.add({ mtg: 'm', cmd: { act: 'remove', target: 'p' }, iat: T });
  const lastKept = T + 30 + MAX_JOIN_TOKEN_TTL_SECONDS;
  assert.deepEqual(ledger.active(T), ['signed-remove', 'signed-end']);
  assert.deepEqual(ledger.active(lastKept), ['signed-remove', 'signed-end'], 'kept while a token it revokes may live');
  store.prune(lastKept);
  assert.equal(store.size, 1, 'the node keeps it too');
  assert.deepEqual(ledger.active(lastKept + 1), ['signed-end'], 'dropped when the node drops it');
  store.prune(lastKept + 1);
  assert.equal(store.size, 0);
  assert.equal(ledger.size, 1);
  ledger.add('signed-later', T + 100 + 30 + MAX_JOIN_TOKEN_TTL_SECONDS + 1);
  assert.equal(ledger.size, 1, 'adding drops what no longer matters (the ledger does not grow without bound)');
});
