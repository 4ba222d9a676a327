// The end-to-end set-up: a real headless station serving its UI on 127.0.0.1 with offline
// tiles, and real Chromium to look at it. One owner for all of it, so a test's after hook
// (or a failed start) closes every page, the browser and the station, and removes the folder.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';

import { projectRoot } from '../../app/station/paths';
import { chromiumMissing, launchChromium, openTrackedPage, type TrackedPage } from './browser';
import { stationEnv, stationMissing, StationProcess } from './station';
import { makeTileFolder, type TileSetOptions } from './tiles';

export const UI_INDEX = path.join(projectRoot, 'dist', 'ui', 'index.html');

/** A skip reason when there is no Chromium, no built UI or station, or any of `files`. */
export function stationUiMissing(files: string[] = []): string | false {
  const chromium = chromiumMissing();
  if (chromium) return chromium;
  if (!existsSync(UI_INDEX)) return `${UI_INDEX} is missing: run "node scripts/build.mjs" first`;
  return stationMissing(files);
}

export interface StationUiOptions {
  /** Prefix of the temporary folder that holds tiles, cache and data. */
  prefix: string;
  /**
   * The station's options besides --serve, --tiles and --events, which this adds. Called with
   * the temporary folder, to write there what the options name (a video folder, say).
   */
  args: (workDir: string) => string[];
  tiles: TileSetOptions;
  serveTimeoutMs?: number;
}

export class StationUi {
  private readonly pages: TrackedPage[] = [];

  private constructor(
    readonly workDir: string,
    readonly station: StationProcess,
    readonly browser: Browser,
    /** The observers' page. */
    readonly url: string,
    /** The operator's page, with the token. */
    readonly operatorUrl: string,
  ) {}

  static async start(options: StationUiOptions): Promise<StationUi> {
    const workDir = mkdtempSync(path.join(os.tmpdir(), options.prefix));
    let station: StationProcess | null = null;
    try {
      const tileDir = path.join(workDir, 'tiles');
      makeTileFolder(tileDir, options.tiles);
      station = StationProcess.start(
        [
          ...options.args(workDir),
          ...['--serve', '127.0.0.1:0', '--tiles', tileDir, '--events', '-'],
        ],
        stationEnv(workDir),
      );
      const serve = await station.waitEvent(
        (e) => e.type === 'serve',
        options.serveTimeoutMs ?? 60_000,
        'serve event',
      );
      const browser = await launchChromium();
      return new StationUi(workDir, station, browser, String(serve.url), String(serve.operatorUrl));
    } catch (error) {
      await station?.stop();
      rmSync(workDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** A page fenced to 127.0.0.1 (see openTrackedPage), closed with everything else. */
  async open(url: string): Promise<TrackedPage> {
    const tracked = await openTrackedPage(this.browser, url);
    this.pages.push(tracked);
    return tracked;
  }

  async dispose(): Promise<void> {
    try {
      for (const tracked of this.pages) await tracked.dispose().catch(() => {});
      await this.browser.close();
    } finally {
      await this.station.stop();
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }
}

/** Waits until the status bar says the vehicle link is up. */
export async function waitForLinkConnected(page: Page, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="status-link"]')?.getAttribute('data-state') ===
      'connected',
    null,
    { timeout: timeoutMs },
  );
}
