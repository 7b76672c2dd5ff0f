// Starts one real mediasoup worker from MEDIASOUP_WORKER_BIN and closes it: proof that a cached binary works.
const mediasoup = await import('mediasoup');
const worker = await mediasoup.createWorker({ logLevel: 'error' });
const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
router.close();
worker.close();
console.log('ok', mediasoup.version);
