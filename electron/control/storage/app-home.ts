import os from 'node:os';
import path from 'node:path';

/**
 * Where Handoff keeps its state: $HANDOFF_HOME, else the OS app-data folder the desktop app uses
 * too (Electron's userData for productName "Handoff"), so the CLI and the app see the same hosts.
 */
export function resolveHandoffHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HANDOFF_HOME) return path.resolve(env.HANDOFF_HOME);
  const home = os.homedir();
  switch (process.platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'Handoff');
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Handoff');
    default:
      return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Handoff');
  }
}
