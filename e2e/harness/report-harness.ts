import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createController, type Controller, type ControllerOptions } from '../../electron/control/controller';

/**
 * What the report tests share: a controller over a test home that never contacts a host (report
 * exports read stored runs only, so the agent artifacts are placeholders), and headless Chromium.
 */
export function reportController(home: string, extra: Partial<ControllerOptions> = {}): Promise<Controller> {
  return createController({ home, mode: 'cli', artifacts: { version: '0', bundlePath: path.join(home, 'unused-agent.cjs'), runtimeTarball: async () => path.join(home, 'unused-runtime') }, ...extra });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
