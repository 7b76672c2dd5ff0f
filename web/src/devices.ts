/**
 * Cameras, microphones and speakers: the pre-join device check (camera preview, live microphone level, pickers,
 * join with mic or camera off, help when the browser refuses) and the same pickers inside the meeting. DOM and
 * getUserMedia live here; the meeting client only ever gets tracks.
 */
import { h } from './dom.js';
import { explainDeviceError } from './messages.js';

export type DeviceKind = 'videoinput' | 'audioinput' | 'audiooutput';

/** The options of a device picker: browsers hide labels until access is granted, so unnamed ones get a number. */
export function deviceChoices(devices: ReadonlyArray<{ deviceId: string; kind: string; label: string }>, kind: DeviceKind): Array<{ id: string; label: string }> {
  const noun = { videoinput: 'Camera', audioinput: 'Microphone', audiooutput: 'Speaker' }[kind];
  const seen = new Set<string>();
  return devices
    .filter((d) => d.kind === kind && d.deviceId && !seen.has(d.deviceId) && seen.add(d.deviceId))
    .map((d, i) => ({ id: d.deviceId, label: d.label || `${noun} ${i + 1}` }));
}

export const canPickSpeaker = (): boolean => typeof (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId === 'function';

/** Plays audio elements through `sinkId` where the browser can. */
export async function applySpeaker(elements: Iterable<HTMLMediaElement>, sinkId: string): Promise<void> {
  if (!canPickSpeaker() || !sinkId) return;
  await Promise.all([...elements].map((el) => (el as HTMLMediaElement & { setSinkId(id: string): Promise<void> }).setSinkId(sinkId).catch(() => undefined)));
}

/** Opens one device; `deviceId` empty means the default. */
export async function openDevice(kind: 'videoinput' | 'audioinput', deviceId = ''): Promise<MediaStreamTrack> {
  const id = deviceId ? { deviceId: { exact: deviceId } } : {};
  const stream = await navigator.mediaDevices.getUserMedia(kind === 'videoinput'
    ? { video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 }, ...id } }
    : { audio: { echoCancellation: true, noiseSuppression: true, ...id } });
  return stream.getTracks()[0]!;
}

/** A live level (0..1) of an audio track, polled every 100 ms into `onLevel`; returns the stop function. */
export function watchLevel(track: MediaStreamTrack, onLevel: (level: number) => void): () => void {
  let ctx: AudioContext;
  try {
    ctx = new AudioContext();
  } catch {
    return () => undefined;
  }
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    void ctx.resume().catch(() => undefined);
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    onLevel(Math.min(1, Math.sqrt(sum / buf.length) * 4));
  }, 100);
  return () => {
    clearInterval(timer);
    void ctx.close().catch(() => undefined);
  };
}

export interface DeviceChoice {
  camera: MediaStreamTrack | null;
  mic: MediaStreamTrack | null;
  cameraOn: boolean;
  micOn: boolean;
  speakerId: string;
}

interface PickerOptions {
  /** Pre-join: a camera preview, a level meter and the on/off toggles. In the meeting: pickers only. */
  preview: boolean;
  /** Called when the user picks another camera or microphone (the new track) or speaker. */
  onCamera?: (track: MediaStreamTrack) => void | Promise<void>;
  onMic?: (track: MediaStreamTrack) => void | Promise<void>;
  onSpeaker?: (sinkId: string) => void | Promise<void>;
}

const STORE = { camera: 'meshmeet.camera', mic: 'meshmeet.mic', speaker: 'meshmeet.speaker' } as const;
const remembered = (k: keyof typeof STORE) => {
  try {
    return localStorage.getItem(STORE[k]) ?? '';
  } catch {
    return '';
  }
};
const remember = (k: keyof typeof STORE, v: string) => {
  try {
    localStorage.setItem(STORE[k], v);
  } catch { /* private mode */ }
};

let uid = 0;

/**
 * The device check. `start()` asks for camera and microphone (each separately, so one refused device does not take
 * the other with it), fills the pickers and shows the preview; `take()` hands the open tracks over (to the meeting).
 */
export class DevicePanel {
  readonly el: HTMLElement;
  private camera: MediaStreamTrack | null = null;
  private mic: MediaStreamTrack | null = null;
  private cameraOn = true;
  private micOn = true;
  private stopLevel: () => void = () => undefined;
  private readonly video: HTMLVideoElement;
  private readonly meter: HTMLElement;
  private readonly meterBar: HTMLElement;
  private readonly help: HTMLElement;
  private readonly selects: Record<DeviceKind, HTMLSelectElement>;
  private readonly toggles: { camera: HTMLButtonElement; mic: HTMLButtonElement };
  private readonly onDeviceChange = () => void this.fill();

  constructor(private readonly o: PickerOptions) {
    const n = ++uid;
    const select = (kind: DeviceKind, label: string) => {
      const s = h('select', { id: `dev-${kind}-${n}`, class: `device-${kind}` });
      s.addEventListener('change', () => void this.picked(kind, s.value));
      return { s, row: h('div', { class: 'device-row' }, h('label', { for: s.id }, label), s) };
    };
    const cam = select('videoinput', 'Camera');
    const mic = select('audioinput', 'Microphone');
    const spk = select('audiooutput', 'Speaker');
    this.selects = { videoinput: cam.s, audioinput: mic.s, audiooutput: spk.s };
    this.video = h('video', { class: 'device-preview', autoplay: true, playsinline: true, 'aria-label': 'Your camera preview' });
    this.video.muted = true;
    this.meterBar = h('span', { class: 'level-bar' });
    this.meter = h('div', { class: 'level', role: 'meter', 'aria-label': 'Microphone level', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 }, this.meterBar);
    this.help = h('p', { class: 'device-help', role: 'alert' });
    const toggle = (what: 'camera' | 'mic', text: string) => {
      const b = h('button', { type: 'button', class: `toggle-${what}`, 'aria-pressed': 'true' }, text);
      b.addEventListener('click', () => this.setOn(what, !(what === 'camera' ? this.cameraOn : this.micOn)));
      return b;
    };
    this.toggles = { camera: toggle('camera', 'Camera on'), mic: toggle('mic', 'Microphone on') };
    spk.row.hidden = !canPickSpeaker();
    this.el = h('div', { class: `device-panel${o.preview ? ' with-preview' : ''}` },
      o.preview && h('div', { class: 'preview-box' }, this.video, h('span', { class: 'preview-off', 'aria-hidden': 'true' }, 'Camera is off')),
      o.preview && h('div', { class: 'button-row toggles' }, this.toggles.mic, this.toggles.camera),
      cam.row,
      mic.row,
      o.preview && h('div', { class: 'device-row' }, h('span', { class: 'level-label' }, 'Mic level'), this.meter),
      spk.row,
      this.help);
    navigator.mediaDevices?.addEventListener?.('devicechange', this.onDeviceChange);
  }

  private starting: Promise<void> | null = null;
  private closed = false;

  /** Opens the remembered (or default) camera and microphone and fills the pickers (once). */
  start(): Promise<void> {
    this.starting ??= this.open();
    return this.starting;
  }

  private async open(): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.say(explainDeviceError({ name: 'SecurityError' }));
      return;
    }
    const problems: string[] = [];
    const open = async (kind: 'videoinput' | 'audioinput', key: 'camera' | 'mic') => {
      try {
        return await openDevice(kind, remembered(key));
      } catch (err) {
        if ((err as Error).name === 'OverconstrainedError') {
          try {
            return await openDevice(kind);
          } catch (again) {
            problems.push(explainDeviceError(again as Error, key === 'mic' ? 'microphone' : 'camera'));
            return null;
          }
        }
        problems.push(explainDeviceError(err as Error, key === 'mic' ? 'microphone' : 'camera'));
        return null;
      }
    };
    const [camera, mic] = [await open('videoinput', 'camera'), await open('audioinput', 'mic')];
    if (this.closed) {
      // Closed (or taken) while the browser was still opening them: nobody will use these.
      camera?.stop();
      mic?.stop();
      return;
    }
    this.camera = camera;
    this.mic = mic;
    this.say(problems.length === 2 && problems[0]!.includes('blocked') ? explainDeviceError({ name: 'NotAllowedError' }) : problems.join(' '));
    this.showPreview();
    await this.fill();
  }

  /** The devices the user chose, with their open tracks (the panel lets go of them); waits for them to open. */
  async take(): Promise<DeviceChoice> {
    await this.start().catch(() => undefined);
    const choice = { camera: this.camera, mic: this.mic, cameraOn: this.cameraOn && !!this.camera, micOn: this.micOn && !!this.mic, speakerId: this.selects.audiooutput.value };
    this.camera = this.mic = null;
    this.close();
    return choice;
  }

  /** Stops the preview, the meter and any track still held. */
  close(): void {
    this.closed = true;
    this.stopLevel();
    this.camera?.stop();
    this.mic?.stop();
    this.camera = this.mic = null;
    this.video.srcObject = null;
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.onDeviceChange);
  }

  /** In the meeting: select what is in use now. */
  async refresh(current: { camera?: MediaStreamTrack | null; mic?: MediaStreamTrack | null }): Promise<void> {
    await this.fill(current);
  }

  private say(text: string): void {
    this.help.textContent = text;
  }

  private setOn(what: 'camera' | 'mic', on: boolean): void {
    if (what === 'camera') this.cameraOn = on;
    else this.micOn = on;
    const b = this.toggles[what];
    b.setAttribute('aria-pressed', String(on));
    b.textContent = `${what === 'camera' ? 'Camera' : 'Microphone'} ${on ? 'on' : 'off'}`;
    b.classList.toggle('off', !on);
    this.showPreview();
  }

  private showPreview(): void {
    if (!this.o.preview) return;
    const live = this.cameraOn && !!this.camera;
    this.video.srcObject = live ? new MediaStream([this.camera!]) : null;
    this.el.classList.toggle('camera-off', !live);
    this.stopLevel();
    this.stopLevel = () => undefined;
    if (this.mic && this.micOn) {
      this.stopLevel = watchLevel(this.mic, (level) => {
        this.meterBar.style.width = `${Math.round(level * 100)}%`;
        this.meter.setAttribute('aria-valuenow', String(Math.round(level * 100)));
      });
    } else {
      this.meterBar.style.width = '0%';
      this.meter.setAttribute('aria-valuenow', '0');
    }
  }

  private async fill(current: { camera?: MediaStreamTrack | null; mic?: MediaStreamTrack | null } = {}): Promise<void> {
    let devices: MediaDeviceInfo[] = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch {
      return;
    }
    const inUse: Record<DeviceKind, string> = {
      videoinput: (current.camera ?? this.camera)?.getSettings().deviceId ?? remembered('camera'),
      audioinput: (current.mic ?? this.mic)?.getSettings().deviceId ?? remembered('mic'),
      audiooutput: remembered('speaker'),
    };
    for (const kind of ['videoinput', 'audioinput', 'audiooutput'] as const) {
      const s = this.selects[kind];
      const choices = deviceChoices(devices, kind);
      s.replaceChildren(...(choices.length ? choices : [{ id: '', label: kind === 'audiooutput' ? 'Default speaker' : 'None found' }])
        .map((c) => h('option', { value: c.id, selected: c.id === inUse[kind] }, c.label)));
      if (choices.some((c) => c.id === inUse[kind])) s.value = inUse[kind];
      s.disabled = !choices.length;
    }
  }

  private async picked(kind: DeviceKind, deviceId: string): Promise<void> {
    this.say('');
    if (kind === 'audiooutput') {
      remember('speaker', deviceId);
      await this.o.onSpeaker?.(deviceId);
      return;
    }
    const key = kind === 'videoinput' ? 'camera' : 'mic';
    let track: MediaStreamTrack;
    try {
      track = await openDevice(kind, deviceId);
    } catch (err) {
      this.say(explainDeviceError(err as Error, key === 'mic' ? 'microphone' : 'camera'));
      return;
    }
    remember(key, deviceId);
    if (this.o.preview) {
      this[key]?.stop();
      this[key] = track;
      this.showPreview();
    } else {
      await (key === 'camera' ? this.o.onCamera : this.o.onMic)?.(track);
    }
  }
}
