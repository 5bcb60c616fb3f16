import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Conversation } from '../../../common/chat';
import { ConversationStore } from './conversation-store';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function store(): Promise<ConversationStore> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'conv-'));
  dirs.push(home);
  return new ConversationStore(home);
}

const conv = (id: string, updatedAt: string, title = id): Conversation => ({
  v: 1, id, title, createdAt: updatedAt, updatedAt, systemPrompt: '', params: { temperature: 0.2 }, lanes: [{ deployment: 'x' }], turns: [],
});

describe('ConversationStore', () => {
  it('saves, lists newest first, reads back and deletes conversations', async () => {
    const s = await store();
    expect(await s.list()).toEqual([]);
    await s.save(conv('a', '2026-01-01T00:00:00Z'));
    await s.save(conv('b', '2026-02-01T00:00:00Z'));
    expect((await s.list()).map((c) => c.id)).toEqual(['b', 'a']);
    expect(await s.get('a')).toEqual(conv('a', '2026-01-01T00:00:00Z'));
    expect(await s.delete('a')).toBe(true);
    expect(await s.delete('a')).toBe(false);
    await expect(s.get('a')).rejects.toMatchObject({ code: 'conversation-not-found' });
  });

  it('keeps the last of concurrent saves and leaves no temp files behind', async () => {
    const s = await store();
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.save(conv('c', `2026-01-01T00:00:0${i}Z`, `v${i}`))));
    expect((await s.get('c')).title).toBe('v9');
    expect(await fs.readdir(s.dir)).toEqual(['c.json']);
  });

  it('names a corrupt file and what to do, and still lists the others', async () => {
    const s = await store();
    await s.save(conv('good', '2026-01-01T00:00:00Z'));
    await fs.writeFile(path.join(s.dir, 'bad.json'), '{"v":1,');
    await fs.writeFile(path.join(s.dir, 'wrong.json'), JSON.stringify({ v: 2 }));
    await expect(s.get('bad')).rejects.toMatchObject({ code: 'corrupt-conversation', message: expect.stringMatching(/bad\.json is not valid JSON. Move it aside/) });
    await expect(s.get('wrong')).rejects.toMatchObject({ code: 'corrupt-conversation' });
    const list = await s.list();
    expect(list.find((c) => c.id === 'good')?.title).toBe('good');
    expect(list.find((c) => c.id === 'bad')?.title).toMatch(/unreadable/);
  });

  it('refuses ids that could leave the conversations folder', async () => {
    const s = await store();
    await expect(s.get('../hosts')).rejects.toMatchObject({ code: 'invalid-params' });
  });
});
