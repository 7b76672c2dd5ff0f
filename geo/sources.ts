/**
 * Where node lists come from. The control plane (and `meshmeet route`) ask a `NodeSource` for the current nodes on
 * every placement: the cluster's membership view when the control plane is a gossip member, else a static list: one
 * node (EDGE_NODE_URL) or a JSON nodes file.
 *
 * The nodes file is a JSON array of node descriptions with the fields of a heartbeat (`NodeInfo` in
 * edge-node/protocol/mesh.ts). Only `nodeId`, `region`, `latitude`, `longitude` and `signallingUrl` are required;
 * the rest default to an idle, active node (see `NodeDescription`). A full heartbeat as the cluster prints it is a
 * valid description too. Example: geo/nodes.example.json.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { NodeInfo } from '../edge-node/protocol/mesh.js';

/** The current nodes (cheap to call: the join route calls it once per join). */
export type NodeSource = () => NodeInfo[];
/** The nodes serving a meeting now, from the directory (none without a cluster). */
export type MeetingHosts = (meetingId: string) => string[];

/** Capacity assumed for a static node that does not declare one. */
export const STATIC_CAPACITY = 1000;

export const NodeDescription = NodeInfo.extend({
  mediaAddress: NodeInfo.shape.mediaAddress.optional(),
  capacity: NodeInfo.shape.capacity.default({ participants: STATIC_CAPACITY }),
  load: NodeInfo.shape.load.default({ participants: 0, consumers: 0, cpu: 0 }),
  state: NodeInfo.shape.state.default('active'),
  version: NodeInfo.shape.version.default(''),
  codecHash: NodeInfo.shape.codecHash.default('static'),
  incarnation: NodeInfo.shape.incarnation.default(0),
  seq: NodeInfo.shape.seq.default(0),
  sentAt: NodeInfo.shape.sentAt.optional(),
}).strict();
export type NodeDescription = z.input<typeof NodeDescription>;

export const NodesFile = z.array(NodeDescription).min(1).max(10_000)
  .refine((list) => new Set(list.map((n) => n.nodeId)).size === list.length, { message: 'node ids must be unique' });

/** Validates a nodes file's content; throws with the file name and the failing field. */
export function parseNodes(json: string, name = 'nodes file'): NodeInfo[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(`${name}: not valid JSON (${(err as Error).message})`);
  }
  const r = NodesFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${name}: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
  }
  return r.data.map((n) => ({ ...n, mediaAddress: n.mediaAddress ?? new URL(n.signallingUrl).hostname, sentAt: n.sentAt ?? 0 }));
}

/**
 * A fixed list. Static nodes send no heartbeats, so each call stamps them as just heard from: a static node is
 * always fresh; only its declared state and capacity filter it.
 */
export function staticNodeSource(nodes: readonly NodeInfo[]): NodeSource {
  return () => {
    const now = Date.now();
    return nodes.map((n) => ({ ...n, sentAt: now }));
  };
}

/** A nodes file, read and validated once (at start: a bad file stops the process with a clear message). */
export function nodesFileSource(path: string): NodeSource {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`nodes file ${path}: ${(err as Error).message}`);
  }
  return staticNodeSource(parseNodes(text, `nodes file ${path}`));
}

/** One node at `url` (the single-node setup, EDGE_NODE_URL): it gets every participant. */
export function singleNodeSource(url: string, region = 'default'): NodeSource {
  return staticNodeSource(parseNodes(JSON.stringify([{ nodeId: 'default', region, latitude: 0, longitude: 0, signallingUrl: url }])));
}
