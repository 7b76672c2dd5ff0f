/** Bundles the web client into web/dist (served by the edge node). `tsx web/build.ts [--watch]` */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist');

export async function buildWeb(): Promise<string> {
  await fs.mkdir(out, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(here, 'src', 'main.ts')],
    outfile: path.join(out, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) await fs.copyFile(path.join(here, f), path.join(out, f));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = await buildWeb();
  console.log(`web client built into ${path.relative(process.cwd(), dir)}`);
}
