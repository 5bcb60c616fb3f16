import pkg from '../package.json' with { type: 'json' };

/** One version for app, controller and agent: a controller always installs the agent of its own version. */
export const HANDOFF_VERSION: string = pkg.version;
