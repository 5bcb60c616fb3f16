import fs from 'node:fs/promises';
import path from 'node:path';
import { Conversation, settleLoadedConversation, summarizeConversation, type ConversationSummary } from '../../../common/chat';
import { describeZodError, UserFacingError } from '../../../common/errors';
import { writeJsonAtomic } from '../storage/json-file';

/**
 * Saved chat conversations: one JSON file per conversation in `$HANDOFF_HOME/conversations/`,
 * written atomically (temp + rename), so a crash mid-save leaves the previous version intact.
 */
export class ConversationStore {
  readonly dir: string;
  /** Saves of one conversation run one after the other, so the last one asked is the one kept. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(home: string) {
    this.dir = path.join(home, 'conversations');
  }

  private file(id: string): string {
    // Ids are checked by the API schema (ClientId); this guards callers inside the controller too.
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UserFacingError('invalid-params', `"${id}" is not a conversation id.`);
    return path.join(this.dir, `${id}.json`);
  }

  /** Newest first. A file that cannot be read is listed with a title that says so, never hidden. */
  async list(): Promise<ConversationSummary[]> {
    let names: string[];
    try {
      names = (await fs.readdir(this.dir)).filter((n) => /^[A-Za-z0-9_-]{1,64}\.json$/.test(n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out = await Promise.all(
      names.map(async (n): Promise<ConversationSummary> => {
        const id = n.slice(0, -5);
        try {
          return summarizeConversation(await this.get(id));
        } catch {
          const st = await fs.stat(path.join(this.dir, n)).catch(() => null);
          return { id, title: `(unreadable: ${n})`, updatedAt: st ? st.mtime.toISOString() : new Date(0).toISOString(), turns: 0, lanes: 0 };
        }
      }),
    );
    return out.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  async get(id: string): Promise<Conversation> {
    const file = this.file(id);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserFacingError('conversation-not-found', `There is no saved conversation ${id}. It may have been deleted; pick another one or start a new one.`);
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new UserFacingError('corrupt-conversation', `${file} is not valid JSON. Move it aside or delete it; the other conversations are not affected.`);
    }
    const r = Conversation.safeParse(value);
    if (!r.success) throw new UserFacingError('corrupt-conversation', `${describeZodError(file, r.error)}. Move the file aside or delete it; the other conversations are not affected.`);
    return settleLoadedConversation(r.data);
  }

  async save(c: Conversation): Promise<ConversationSummary> {
    const file = this.file(c.id);
    const prev = this.queues.get(c.id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => writeJsonAtomic(file, c));
    this.queues.set(c.id, next);
    try {
      await next;
    } finally {
      if (this.queues.get(c.id) === next) this.queues.delete(c.id);
    }
    return summarizeConversation(c);
  }

  async delete(id: string): Promise<boolean> {
    const file = this.file(id);
    await (this.queues.get(id) ?? Promise.resolve()).catch(() => undefined);
    try {
      await fs.rm(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}
