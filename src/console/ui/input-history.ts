/**
 * The prompt's history: up/down walk through the lines entered before (oldest first in
 * `entries`), and the line being typed when the walk started is kept as a draft and comes back
 * after the newest entry, as in bash and redis-cli. Pure: loading and saving the file is
 * history-file.ts's job.
 */

/** Default number of lines kept. */
export const DEFAULT_HISTORY_SIZE = 1000;

export class InputHistory {
  private readonly entries: string[];
  /** Index into `entries` while walking, `entries.length` when not walking. */
  private position: number;
  private draft = '';

  /**
   * @param entries earlier lines, oldest first (e.g. loaded from ~/.ringcache_history)
   * @param maxSize lines kept; the oldest are dropped first
   */
  constructor(entries: readonly string[] = [], private readonly maxSize = DEFAULT_HISTORY_SIZE) {
    this.entries = entries.filter((line) => line.trim() !== '').slice(-maxSize);
    this.position = this.entries.length;
  }

  /** The lines, oldest first. */
  get lines(): readonly string[] {
    return this.entries;
  }

  /**
   * Records an entered line and ends the walk. Blank lines and a repeat of the newest entry are
   * not recorded.
   * @returns true when the line was added
   */
  push(line: string): boolean {
    this.position = this.entries.length;
    this.draft = '';
    if (line.trim() === '' || this.entries[this.entries.length - 1] === line) return false;
    this.entries.push(line);
    if (this.entries.length > this.maxSize) this.entries.splice(0, this.entries.length - this.maxSize);
    this.position = this.entries.length;
    return true;
  }

  /**
   * One step back (the up arrow).
   * @param current the line shown now; kept as the draft when the walk starts here
   * @returns the line to show, or undefined when already at the oldest entry (or none)
   */
  previous(current: string): string | undefined {
    if (this.position === 0) return undefined;
    if (this.position === this.entries.length) this.draft = current;
    this.position--;
    return this.entries[this.position];
  }

  /**
   * One step forward (the down arrow).
   * @returns the line to show (the draft after the newest entry), or undefined when not walking
   */
  next(): string | undefined {
    if (this.position >= this.entries.length) return undefined;
    this.position++;
    return this.position === this.entries.length ? this.draft : this.entries[this.position];
  }

  /** Ends the walk without recording anything (the line was edited or cleared). */
  reset(): void {
    this.position = this.entries.length;
    this.draft = '';
  }
}
