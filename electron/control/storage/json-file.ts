import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import type { z } from 'zod';
import { UserFacingError, describeZodError } from '../../../common/errors';

/** Writes via temp file + rename so a crash never leaves a half-written file behind. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await fs.open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** Reads and validates a JSON file; a missing file yields `fallback`, a corrupt one a clear error that names the file. */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>, fallback: () => T): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback();
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserFacingError('corrupt-state-file', `${file} is not valid JSON. Fix it by hand or move it aside; Handoff will start with an empty one.`);
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new UserFacingError('corrupt-state-file', `${describeZodError(file, r.error)}. Fix the file by hand or move it aside; Handoff will start with an empty one.`);
  }
  return r.data;
}
