/**
 * The whole system for end-to-end tests: a real control plane (real PostgreSQL in a fresh database; chat in a real
 * Cassandra keyspace when asked) serving the web app at /app/, and a real edge node that trusts the control plane's
 * JWKS. Ports are picked free; `restartControl()` stops the control plane and starts it again on the same port and
 * database (what a deploy does); `stop()` takes everything down and drops the test database and keyspace.
 *
 * Also: one headless Chromium with isolated contexts (each its own cookies: one signed-in user each).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { ControlPlane, loadControlConfig, type ControlConfig, type ControlConfigInput } from '../../control/index.js';
import { CHROMIUM, CHROMIUM_FLAGS } from './browser.js';
import { WEB_ROOT, freePortBase, startEdge, type TestEdge } from './edge.js';
import {
  cassandra as startCassandra, dropDatabase, dropKeyspace, freshDatabase, freshKeyspaceName, postgres,
  type CassandraService, type PostgresService,
} from './services.js';

export interface SystemOptions {
  /** Chat in Cassandra (a real node: the suite's, or one started for this system); default: chat in PostgreSQL. */
  cassandra?: boolean;
  /** Edge node mediasoup workers (default 1). */
  workers?: number;
  /** More control plane settings (e.g. the phone gateway's secret). */
  control?: Partial<ControlConfigInput>;
}

export interface TestSystem {
  /** `http://127.0.0.1:PORT` of the control plane (the web app is at `${controlUrl}/app/`). */
  controlUrl: string;
  appUrl: string;
  edgeUrl: string;
  edge: TestEdge;
  /** The running control plane (a new instance after `restartControl()`). */
  readonly control: ControlPlane;
  config: ControlConfig;
  restartControl: () => Promise<void>;
  stop: () => Promise<void>;
}

export async function startSystem(opts: SystemOptions = {}): Promise<TestSystem> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch((err) => console.error('system stop:', err));
  };
  try {
    const pgService: PostgresService = await postgres();
    cleanups.push(() => pgService.stop());
    const databaseUrl = await freshDatabase(pgService.url);
    cleanups.push(() => dropDatabase(databaseUrl));

    let cassandraContactPoints: string | undefined;
    let cassandraKeyspace: string | undefined;
    if (opts.cassandra) {
      const cass: CassandraService = await startCassandra();
      cleanups.push(() => cass.stop());
      cassandraContactPoints = cass.contactPoint;
      cassandraKeyspace = freshKeyspaceName();
      const ks = cassandraKeyspace;
      cleanups.push(() => dropKeyspace(cass.contactPoint, ks));
    }

    // Three consecutive ports, free for TCP and UDP: control plane HTTP, edge HTTP, edge media (one worker).
    const workers = opts.workers ?? 1;
    const base = await freePortBase(2 + workers);
    const controlUrl = `http://127.0.0.1:${base}`;
    const edgeUrl = `http://127.0.0.1:${base + 1}`;
    const config = loadControlConfig({}, {
      httpPort: base,
      publicUrl: controlUrl,
      databaseUrl,
      cassandraContactPoints,
      ...(cassandraKeyspace ? { cassandraKeyspace } : {}),
      edgeNodeUrl: edgeUrl,
      logLevel: 'silent',
      ...opts.control,
    });

    // The edge fetches the JWKS on the first token it sees, so it may start before the control plane.
    const edge = await startEdge({ workers, httpPort: base + 1, rtcBasePort: base + 2, jwks: `${controlUrl}/.well-known/jwks.json` });
    cleanups.push(() => edge.stop());

    let control = new ControlPlane({ config, logger, webRoot: WEB_ROOT });
    await control.start();
    cleanups.push(() => control.stop());

    return {
      controlUrl,
      appUrl: `${controlUrl}/app/`,
      edgeUrl,
      edge,
      get control() {
        return control;
      },
      config,
      restartControl: async () => {
        await control.stop();
        control = new ControlPlane({ config, logger, webRoot: WEB_ROOT });
        await control.start();
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export interface TestBrowsers {
  browser: Browser;
  /** A new isolated context (own cookies and storage) with camera and microphone allowed. */
  newUser: () => Promise<BrowserContext>;
  close: () => Promise<void>;
}

/** One headless Debian Chromium (never a downloaded one) for several users, each in its own context. */
export async function launchBrowsers(): Promise<TestBrowsers> {
  const downloads = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-downloads-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, downloadsPath: downloads });
  return {
    browser,
    newUser: () => browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 860 } }),
    close: async () => {
      await browser.close().catch(() => undefined);
      await fs.rm(downloads, { recursive: true, force: true });
    },
  };
}
