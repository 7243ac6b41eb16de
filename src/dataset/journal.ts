/**
 * The publish journal: what a `publishDataset` run has registered and certified, so that a re-run
 * after Ctrl-C, a crash or a failure skips every certified unit and reuses every registration
 * (nothing is paid twice). Units are keyed by their content (SHA-256 of the bytes they hold and
 * the committee size), so a file that changed gets new units while unchanged ones are still found.
 *
 * The journal is one JSON file rewritten atomically (temporary file in the same directory, fsync,
 * rename) after each state change, writes serialised: whatever kills the process, the file on disk
 * is either the previous or the next consistent state, never a torn one. Default location: a
 * `datasets/` state directory next to the client config, one file per published directory.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TuskInputError } from '../errors.ts';

/** The journal version this module reads and writes. */
export const JOURNAL_VERSION = 1;

/** What the journal knows about one storage unit (a quilt, a whole-file blob, a chunk, the manifest). */
export interface JournalUnit {
  readonly kind: 'quilt' | 'blob' | 'chunk' | 'manifest';
  /** `encoded`: blob ID known; `registered`: a Blob object was paid for; `certified`: done. */
  readonly state: 'encoded' | 'registered' | 'certified';
  readonly blobId: string;
  readonly blobObjectId?: string;
  /** File bytes this unit holds (the size of the files in a quilt, of a chunk, …). */
  readonly bytes: number;
  /** Quilt units: dataset path → quilt patch ID. */
  readonly patches?: Readonly<Record<string, string>>;
}

/** The journal's content. */
export interface JournalState {
  readonly version: number;
  /** The directory published (absolute, resolved). */
  readonly root: string;
  readonly epochs: number;
  readonly deletable: boolean;
  /** Last seen SHA-256 of each file (reports files that changed since the previous run). */
  files: Record<string, { size: number; sha256: string }>;
  units: Record<string, JournalUnit>;
  /** Set once a run completed. */
  manifestId?: string;
}

/** Default journal path for publishing `root` with client config `configPath`. */
export function defaultJournalPath(configPath: string, root: string): string {
  const key = createHash('sha256').update(root).digest('hex').slice(0, 32);
  return join(dirname(configPath), 'datasets', `${key}.journal.json`);
}

/** An open journal (see the file header). Not safe for use by two processes at once. */
export class PublishJournal {
  readonly path: string;
  readonly state: JournalState;
  private writing: Promise<void> = Promise.resolve();

  private constructor(path: string, state: JournalState) {
    this.path = path;
    this.state = state;
  }

  /**
   * Opens the journal at `path` (created on the first save) for publishing `root`.
   * @throws TuskInputError when the file is not a journal, or was written for another directory,
   *   other epochs or other persistence (its units would not fit this run: use another --journal).
   */
  static async open(path: string, root: string, epochs: number, deletable: boolean): Promise<PublishJournal> {
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new TuskInputError(`journal ${path}: ${(e as Error).message}`);
    }
    if (text === null) return new PublishJournal(path, { version: JOURNAL_VERSION, root, epochs, deletable, files: {}, units: {} });
    let s: JournalState;
    try {
      s = JSON.parse(text) as JournalState;
    } catch {
      throw new TuskInputError(
        `journal ${path} is not valid JSON; move it away to start over (registrations are still reused from the chain)`,
      );
    }
    if (s?.version !== JOURNAL_VERSION || typeof s.units !== 'object' || typeof s.files !== 'object')
      throw new TuskInputError(`journal ${path} is not a version-${JOURNAL_VERSION} dataset journal`);
    if (s.root !== root) throw new TuskInputError(`journal ${path} belongs to ${s.root}, not ${root}; give another --journal`);
    if (s.epochs !== epochs || s.deletable !== deletable)
      throw new TuskInputError(
        `journal ${path} was started with --epochs ${s.epochs}${s.deletable ? '' : ' --permanent'}; re-run with the same options, or give another --journal`,
      );
    return new PublishJournal(path, s);
  }

  /** Records a unit's new state and saves. */
  async setUnit(key: string, unit: JournalUnit): Promise<void> {
    this.state.units[key] = unit;
    await this.save();
  }

  /** Saves the whole state atomically; writes are serialised. Resolves once on disk. */
  save(): Promise<void> {
    const text = JSON.stringify(this.state);
    const next = this.writing.then(() => writeAtomically(this.path, text));
    this.writing = next.catch(() => {});
    return next;
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
