// Builds every runtime target with esbuild: the station and simulator (Node), the detector
// worker, the Electron shell, and the UI bundle. Type checking is separate (npm run typecheck).
import { build } from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const outDir = path.join(root, 'dist');

const nodeTarget = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  packages: 'external',
  logLevel: quiet ? 'warning' : 'info',
};

await Promise.all([
  build({
    ...nodeTarget,
    entryPoints: {
      'station/cli': 'app/station/cli.ts',
      'station/sim': 'app/station/sim/main.ts',
      'station/detector-worker': 'app/station/detector/worker.ts',
    },
    outdir: outDir,
  }),
  build({
    ...nodeTarget,
    external: ['electron'],
    entryPoints: { 'electron/main': 'electron/main.ts', 'electron/preload': 'electron/preload.ts' },
    outdir: outDir,
  }),
  build({
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    sourcemap: true,
    minify: !process.argv.includes('--dev'),
    entryPoints: { app: 'app/ui/main.tsx' },
    outdir: path.join(outDir, 'ui'),
    loader: { '.png': 'file', '.svg': 'file' },
    logLevel: quiet ? 'warning' : 'info',
  }),
]);

mkdirSync(path.join(outDir, 'ui'), { recursive: true });
cpSync(path.join(root, 'app/ui/index.html'), path.join(outDir, 'ui/index.html'));
cpSync(path.join(root, 'node_modules/leaflet/dist/leaflet.css'), path.join(outDir, 'ui/leaflet.css'));
cpSync(path.join(root, 'node_modules/leaflet/dist/images'), path.join(outDir, 'ui/images'), {
  recursive: true,
});
