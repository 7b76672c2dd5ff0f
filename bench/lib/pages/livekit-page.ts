/**
 * Runs IN Chromium (bundled by esbuild at bench setup, from the npm package livekit-client; nothing from the internet):
 * a view-only LiveKit participant that subscribes to the first `maxVideo` remote video tracks (and every audio track),
 * shows each in a thumbnail-sized element (160x90) so that LiveKit's adaptive stream picks the layer a gallery tile needs,
 * as our web client's thumbnails do.
 */
import { Room, RoomEvent, Track, type RemoteTrackPublication } from 'livekit-client';

declare global {
  interface Window {
    benchLivekitJoin: (url: string, token: string, maxVideo: number) => Promise<void>;
    benchLivekitRoom?: Room;
  }
}

window.benchLivekitJoin = async (url, token, maxVideo) => {
  const room = new Room({ adaptiveStream: { pixelDensity: 1 }, dynacast: false });
  let taken = 0;
  const take = (pub: RemoteTrackPublication): void => {
    if (pub.isSubscribed) return;
    if (pub.kind === Track.Kind.Video) {
      if (taken >= maxVideo) return;
      taken++;
    }
    pub.setSubscribed(true);
  };
  room.on(RoomEvent.TrackPublished, (pub) => take(pub));
  room.on(RoomEvent.TrackSubscribed, (track) => {
    const el = track.attach();
    if (el instanceof HTMLVideoElement) {
      el.muted = true;
      // small enough that 16 fit on the 640x360 page (adaptive stream pauses what is off screen), and at most the
      // lowest layer's size
      el.style.width = '160px';
      el.style.height = '90px';
    }
    document.body.append(el);
  });
  await room.connect(url, token, { autoSubscribe: false });
  for (const p of room.remoteParticipants.values()) for (const pub of p.trackPublications.values()) take(pub);
  window.benchLivekitRoom = room;
};
