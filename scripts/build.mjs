// Builds every runtime target with esbuild: the station and simulator (Node), the detector
// worker, the Electron shell, and the UI bundle. Type checking is separate (npm run typecheck).
// Each target builds on its own, so one broken target names itself and the rest still build.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const quiet = process.argv.includes('--quiet');
const outDir = path.join(root, 'dist');
const logLevel = quiet ? 'warning' : 'info';

const node = (entry, out, extra = {}) => ({
  entryPoints: { [out]: entry },
  outdir: outDir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  packages: 'external',
  logLevel,
  ...extra,
});

const targets = [
  node('app/station/cli.ts', 'station/cli'),
  node('app/station/sim/main.ts', 'station/sim'),
  node('app/station/detector/worker.ts', 'station/detector-worker'),
  node('electron/main.ts', 'electron/main', { external: ['electron'] }),
  node('electron/preload.ts', 'electron/preload', { external: ['electron'] }),
  {
    entryPoints: { app: 'app/ui/main.tsx' },
    outdir: path.join(outDir, 'ui'),
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    sourcemap: true,
    minify: !process.argv.includes('--dev'),
    loader: { '.png': 'file', '.svg': 'file' },
    logLevel,
  },
];

const results = await Promise.allSettled(targets.map((options) => build(options)));
const failed = results
  .map((result, index) => ({ result, entry: Object.values(targets[index].entryPoints)[0] }))
  .filter(({ result }) => result.status === 'rejected');

if (existsSync('app/ui/index.html')) {
  mkdirSync(path.join(outDir, 'ui'), { recursive: true });
  cpSync('app/ui/index.html', path.join(outDir, 'ui/index.html'));
  cpSync('node_modules/leaflet/dist/leaflet.css', path.join(outDir, 'ui/leaflet.css'));
  cpSync('node_modules/leaflet/dist/images', path.join(outDir, 'ui/images'), { recursive: true });
}

if (failed.length > 0) {
  for (const { entry } of failed) process.stderr.write(`build failed: ${entry}\n`);
  process.exit(1);
}
