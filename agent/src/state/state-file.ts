import type * as z from 'zod';
import { errorText } from '../errors.ts';
import { readFileOrNull, writeFileAtomic } from './atomic-file.ts';

export interface StateFileOptions<T> {
  /** What a whole file must hold; anything else counts as corrupt. */
  schema: z.ZodType<T>;
  log: (line: string) => void;
  /** JSON layout on disk (default: two-space indent). */
  stringify?: (value: T) => string;
  backup?: boolean;
  /**
   * false: saved without fsync (atomic-file.ts `durable`). Only for a file that describes what the
   * kernel holds in memory (addresses, sysctl values): the crash a fsync guards against, of the
   * host, resets that state too, and the agent converges it again from the boot's values; a crash
   * of the agent alone loses nothing written to the page cache.
   */
  durable?: boolean;
}

/**
 * One JSON file in the state dir, read and written by one owner.
 *
 * A corrupt file (not JSON, or not the shape `schema` says) is logged with its name and read as
 * absent; the next write replaces it. That is the only safe reading of a state file: each one
 * holds what the agent needs to undo or to avoid touching, and refusing to start over a bad one
 * would leave the node unserved for ever.
 *
 * A write of what the file already holds is skipped (the file is compared with what was last
 * read or written, not re-read): a reconcile that fails every few seconds must not rewrite and
 * fsync the same bytes each time.
 */
export class StateFile<T> {
  /** The text on disk as far as this process knows; null when unknown (corrupt, or a write failed). */
  private onDisk: string | null = null;

  constructor(
    readonly path: string,
    private readonly o: StateFileOptions<T>,
  ) {}

  private text(value: T): string {
    return this.o.stringify ? this.o.stringify(value) : JSON.stringify(value, null, 2);
  }

  /** The file's value, or `absent` when it does not exist or is corrupt. Other read errors throw. */
  async read(absent: T): Promise<T> {
    const text = await readFileOrNull(this.path);
    if (text === null) {
      // An absent file says the same as `absent`: writing `absent` changes nothing.
      this.onDisk = this.text(absent);
      return absent;
    }
    let why: string;
    try {
      const r = this.o.schema.safeParse(JSON.parse(text));
      if (r.success) {
        this.onDisk = text;
        return r.data;
      }
      why = r.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
    } catch (e) {
      why = errorText(e);
    }
    this.o.log(`state file ${this.path} is corrupt (${why}); starting without it`);
    this.onDisk = null;
    return absent;
  }

  /** Writes `value` atomically unless the file already holds it; true when it wrote. Errors name the file. */
  async write(value: T): Promise<boolean> {
    const text = this.text(value);
    if (text === this.onDisk) return false;
    this.onDisk = null;
    await writeFileAtomic(this.path, text, { backup: this.o.backup, durable: this.o.durable });
    this.onDisk = text;
    return true;
  }
}
