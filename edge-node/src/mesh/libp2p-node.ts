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
}

export async function createMeshNode(options: MeshNodeOptions): Promise<MeshLibp2p> {
  const node = await createLibp2p({
    ...(options.privateKey ? { privateKey: options.privateKey } : {}),
    addresses: { listen: options.listen, ...(options.announce?.length ? { announce: options.announce } : {}) },
    transports: [tcp()],
    connectionProtector: preSharedKey({ psk: options.clusterKey }),
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
        emitSelf: false,
        allowPublishToZeroTopicPeers: true,
        doPX: true,
        // Small records, no benefit from flood-publishing to every peer of a large cluster.
        floodPublish: false,
        maxInboundDataLength: 4 * 1024 * 1024,
      }),
    },
  });
  // gossipsub's factory is typed as the generic PubSub; the instance is a GossipSub (mesh peers, scores).
  return node as unknown as MeshLibp2p;
}
