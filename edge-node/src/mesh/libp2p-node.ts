/**
 * The libp2p node every mesh member runs: TCP, a private network (pnet pre-shared key: the cluster key), noise,
 * yamux, identify, ping and gossipsub with strict signing (every gossip message carries its author's signature).
 */
import './polyfill.js';
import { gossipsub, type GossipSub } from '@chainsafe/libp2p-gossipsub';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify, type Identify } from '@libp2p/identify';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import { ping, type Ping } from '@libp2p/ping';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';

export type MeshServices = { pubsub: GossipSub; identify: Identify; ping: Ping };
export type MeshLibp2p = Libp2p<MeshServices>;

export interface MeshNodeOptions {
  /** The cluster key (text form, see cluster-key.ts). */
  clusterKey: Uint8Array;
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/9000` (port 0: any free port). */
  listen: string[];
  /** Multiaddrs to announce instead of the listen addresses (public address behind NAT). */
  announce?: string[];
  /** The node's libp2p identity; a new one when absent. */
  privateKey?: PrivateKey;
  /** Sign gossip messages (always true in the product; false only lets a test play an unsigned forger). */
  sign?: boolean;
  /** Recognise duplicates before checking their signature (`fastMsgId`); default true, false only to measure without. */
  fastDuplicates?: boolean;
}

/**
 * Gossipsub's cheap duplicate check: the author and sequence number of a gossip message (its message id under strict
 * signing), read from the raw message before its signature is checked. Each record reaches a node from up to D mesh
 * peers; without this gossipsub verifies the ed25519 signature and decodes every copy before it finds that it has
 * seen it. Only messages that passed validation are remembered under this id, so a forged copy cannot shadow the real
 * one. Unsigned messages (tests only) are keyed by their data.
 */
export function fastMsgId(msg: { from?: Uint8Array; seqno?: Uint8Array; data?: Uint8Array }): string {
  if (msg.from && msg.seqno) return `${Buffer.from(msg.from.buffer, msg.from.byteOffset, msg.from.byteLength).toString('base64')}/${Buffer.from(msg.seqno.buffer, msg.seqno.byteOffset, msg.seqno.byteLength).toString('hex')}`;
  return `data/${msg.data ? Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('base64') : ''}`;
}

export async function createMeshNode(options: MeshNodeOptions): Promise<MeshLibp2p> {
  const node = await createLibp2p({
    ...(options.privateKey ? { privateKey: options.privateKey } : {}),
    addresses: { listen: options.listen, ...(options.announce?.length ? { announce: options.announce } : {}) },
    transports: [tcp()],
    // pnet's own handshake timeout is 1 s: a busy host (many nodes on one machine, or a loaded one) misses it and the
    // connection fails as "unexpected end of input"; the dial and upgrade timeouts (10 s) bound it anyway.
    connectionProtector: preSharedKey({ psk: options.clusterKey, timeout: 10_000 }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      // Peers on one host (loopback, or a cluster restarting behind one NAT) share an address; libp2p's default
      // (5 connections per second per host) refuses the rest.
      inboundConnectionThreshold: 1000,
      maxIncomingPendingConnections: 200,
      maxConnections: 300,
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        globalSignaturePolicy: options.sign === false ? 'StrictNoSign' : 'StrictSign',
        ...(options.fastDuplicates === false ? {} : { fastMsgIdFn: fastMsgId }),
        emitSelf: false,
        allowPublishToZeroTopicPeers: true,
        doPX: true,
        // Small records, no benefit from flood-publishing to every peer of a large cluster.
        floodPublish: false,
        maxInboundDataLength: 4 * 1024 * 1024,
        // Gossipsub penalises many peers behind one IP address (a Sybil defence for open networks). Only holders of
        // the cluster key connect here, and a cluster on one host (loopback, or nodes behind one NAT) would otherwise
        // graylist itself: past 10 peers on 127.0.0.1 nothing is forwarded any more.
        scoreParams: { IPColocationFactorWeight: 0 },
      }),
    },
  });
  // gossipsub's factory is typed as the generic PubSub; the instance is a GossipSub (mesh peers, scores).
  return node as unknown as MeshLibp2p;
}
