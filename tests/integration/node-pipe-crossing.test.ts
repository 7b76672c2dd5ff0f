/**
 * Two nodes open their pipe to each other at the same moment (each has a subscriber for the other's producer). The
 * smaller id's open wins. The case this covers: the loser adopts the winner's open, the winner's open completes, and
 * only then does the loser's own open (sent before it saw the winner's) reach the winner. Taking that late open as a
 * re-open closed the pair the loser kept using, and one direction of media was lost (seen in the cross-region bench).
 * Real mediasoup routers and pipe transports; the requests between the two NodePipes are delivered in process, in the
 * order the test holds them to (the mesh's own transport is tested in mesh-pipes).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import type { types } from 'mediasoup';
import type { PipeRequest, PipeResponse } from '../../edge-node/protocol/mesh.js';
import type { MeshLink } from '../../edge-node/src/mesh/link.js';
import { ROUTER_MEDIA_CODECS } from '../../edge-node/src/media-codecs.js';
import { NodePipe, PipeError } from '../../edge-node/src/media/node-pipe.js';
import { loadMediasoup } from '../../edge-node/src/worker-bin.js';

const mediasoup = await loadMediasoup();
const worker = await mediasoup.createWorker({ logLevel: 'warn' });
after(() => worker.close());

/** Routes a NodePipe's requests to the other side's serve methods, each held until the test releases it. */
function link(serve: () => NodePipe, held: { req: PipeRequest; go: () => void }[]): MeshLink {
  return {
    request: async (_to: string, req: PipeRequest): Promise<PipeResponse> => {
      await new Promise<void>((go) => held.push({ req, go }));
      try {
        if (req.type !== 'openTransport') throw new Error(`unexpected ${req.type}`);
        return { ok: true, type: 'openTransport', remote: await serve().serveOpen(req.local) };
      } catch (err) {
        if (err instanceof PipeError) return { ok: false, error: { code: 'bad_request', message: err.message } };
        throw err;
      }
    },
  } as unknown as MeshLink;
}

async function pair(transport: NodePipe): Promise<types.PipeTransport> {
  const t = await transport.currentTransport();
  assert.ok(t, 'a pipe transport is established');
  return t;
}

test('a late open from the crossing loser does not replace the pair it adopted', { timeout: 60_000 }, async () => {
  const [routerA, routerB] = await Promise.all([worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS }), worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS })]);
  const log = pino({ level: 'silent' });
  const fromA: { req: PipeRequest; go: () => void }[] = [];
  const fromB: { req: PipeRequest; go: () => void }[] = [];
  const common = { meetingId: 'm1', listenIp: '127.0.0.1', announcedIp: '127.0.0.1', log };
  // 'node-a' < 'node-b': a's open wins a crossing
  const a: NodePipe = new NodePipe({ ...common, selfId: 'node-a', peerId: 'node-b', router: routerA, link: link(() => b, fromA) });
  const b: NodePipe = new NodePipe({ ...common, selfId: 'node-b', peerId: 'node-a', router: routerB, link: link(() => a, fromB) });
  after(() => { a.close(); b.close(); });

  // both open at once
  const openA = (a as unknown as { ensureTransport(): Promise<types.PipeTransport> }).ensureTransport();
  const openB = (b as unknown as { ensureTransport(): Promise<types.PipeTransport> }).ensureTransport();
  const waitHeld = async (q: unknown[]) => { for (let i = 0; i < 500 && q.length === 0; i++) await new Promise((r) => setTimeout(r, 10)); };
  await waitHeld(fromA);
  await waitHeld(fromB);
  // a's open reaches b first: b (opening, the loser) adopts it; a's open completes
  fromA.shift()!.go();
  await openA;
  // only now b's own open reaches a
  fromB.shift()!.go();
  await openB;

  const [ta, tb] = [await pair(a), await pair(b)];
  assert.equal(ta.closed, false);
  assert.equal(tb.closed, false);
  // the two ends the sides use are each other's
  assert.equal(ta.tuple.remotePort, tb.tuple.localPort, "a's pipe sends to the transport b uses");
  assert.equal(tb.tuple.remotePort, ta.tuple.localPort, "b's pipe sends to the transport a uses");
});
