#!/usr/bin/env node
// `handoff` after `npm link`: runs the TypeScript CLI from this checkout through tsx.
import { register } from 'tsx/esm/api';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

register();
const root = path.resolve(path.dirname(fs.realpathSync(fileURLToPath(import.meta.url))), '..');
await import(pathToFileURL(path.join(root, 'electron', 'cli', 'main.ts')).href);
