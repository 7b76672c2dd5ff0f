/**
 * Smoke of the gossip scenario (not a benchmark): 4 real GossipMesh nodes in 2 node processes, one new-node /
 * SIGKILL round and 3 s of steady state, through the same entry point as `npm run bench -- gossip`, checking that the
 * cluster converges, the new node reaches every view, the killed one is dropped by every view, and the figures and
 * the report come out.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runScenario } from '../../bench/run.js';
import { mesh } from '../../edge-node/index.js';

const out = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-gossip-smoke-'));
after(() => fs.rm(out, { recursive: true, force: true }));

interface Spread { p50: number; p95: number; max: number; n: number }

test('a tiny gossip cluster runs end to end and writes figures and the report', { timeout: 240_000 }, async () => {
  const { report, dir } = await runScenario(['gossip', '--nodes', '4', '--procs', '2', '--rounds', '1', '--steady', '3', '--out', out, '--quiet', 'true']);
  assert.deepEqual(report.failures, []);
  const fig = report.figures['4'] as {
    start: { everyViewCompleteMs: number | null };
    newNodeInEveryViewMs: Spread | null;
    deadNodeDroppedEverywhereMs: Spread | null;
    rounds: { seenBy: number; droppedBy: number }[];
    steady: { recordsByTopicPerNodePerS: Record<string, number>; payloadBytesByTopicPerNodePerS: Record<string, number>;
      socketBytesOutPerNodePerS: number | null; cpuPerNodePct: number; nodes: number; copiesPerNodePerS: number | null };
  };
  assert.ok(fig.start.everyViewCompleteMs !== null && fig.start.everyViewCompleteMs > 0, 'the cluster converged');
  assert.deepEqual(fig.rounds.map((r) => [r.seenBy, r.droppedBy]), [[4, 4]], 'every node saw the new node come and go');
  assert.equal(fig.newNodeInEveryViewMs?.n, 1);
  assert.ok(fig.newNodeInEveryViewMs.max > 0 && fig.newNodeInEveryViewMs.max < 60_000);
  // Dead after DEAD_AFTER_MS of silence: its last heartbeat was at most one interval before the kill.
  assert.ok(fig.deadNodeDroppedEverywhereMs!.max >= mesh.DEAD_AFTER_MS - mesh.HEARTBEAT_INTERVAL_MS, `dropped after ${fig.deadNodeDroppedEverywhereMs!.max} ms`);
  assert.equal(fig.steady.nodes, 4);
  // Each node hears the 3 others about once a second (a loaded machine may delay a few).
  assert.ok(fig.steady.recordsByTopicPerNodePerS.heartbeat! >= 1.5, `heartbeats per node per second: ${fig.steady.recordsByTopicPerNodePerS.heartbeat}`);
  assert.ok(fig.steady.payloadBytesByTopicPerNodePerS.heartbeat! > 100);
  assert.ok(fig.steady.socketBytesOutPerNodePerS! > fig.steady.payloadBytesByTopicPerNodePerS.heartbeat!, 'socket bytes include framing');
  assert.ok(fig.steady.cpuPerNodePct > 0);
  assert.ok(fig.steady.copiesPerNodePerS! >= fig.steady.recordsByTopicPerNodePerS.heartbeat!, 'every record arrived at least once');
  assert.deepEqual(report.figures.constants, { heartbeatIntervalMs: mesh.HEARTBEAT_INTERVAL_MS, deadAfterMs: mesh.DEAD_AFTER_MS, digestIntervalMs: mesh.DIGEST_INTERVAL_MS });

  const json = JSON.parse(await fs.readFile(path.join(dir, 'result.json'), 'utf8')) as { scenario: string; table: { rows: unknown[][] } };
  assert.equal(json.scenario, 'gossip');
  assert.equal(json.table.rows.length, 1);
  assert.equal(json.table.rows[0]![0], 4);
  assert.equal(json.table.rows[0]![2], 'on', "the product's duplicate check by default");
  const html = await fs.readFile(path.join(dir, 'report.html'), 'utf8');
  assert.match(html, /CPU per node/);
  assert.match(html, /<svg/);
  assert.doesNotMatch(html, /<script src=|https?:\/\/cdn/i, 'self-contained');
});

test('the gossip scenario refuses bad flags with a clear error', async () => {
  await assert.rejects(runScenario(['gossip', '--nodes', '4,1', '--out', out, '--quiet', 'true']), /--nodes must be whole numbers in 2\.\.150/);
  await assert.rejects(runScenario(['gossip', '--procs', '0', '--out', out, '--quiet', 'true']), /--procs must be a whole number in 1\.\.16/);
});
