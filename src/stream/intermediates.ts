/**
 * Where the streaming encoder (encode-stream.ts) keeps what the 2D code only completes at the end:
 * the columns' top k_p symbols (written row stripe by row stripe in phase A, read back whole in
 * phase B) and the recovery rows' first k_s symbols (written column stripe by column stripe in
 * phase B). Two stores:
 *  - temporary files (any sink): one column file and one row file in the encode's private
 *    directory, delivered to the sink afterwards — each such byte reaches the disk twice;
 *  - in place ({@link InPlaceSliverSink}, e.g. the sliver directory): the columns ARE the
 *    secondary slivers' data and the recovery rows the primary slivers k_p…n−1, so they are written
 *    straight into those sliver files (positional writes; BCS header and trailer written when the
 *    file is created) and never copied again.
 * Writes and reads are synchronous positional I/O (see file-io.ts).
 */
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { writeUleb } from '../codec/bcs.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import { readAll, writeAll } from './file-io.ts';
import type { InPlaceSliverSink } from './sink.ts';

/** The geometry the stores need (symbol size, source symbols per axis, committee size). */
export interface IntermediateLayout {
  readonly n: number;
  readonly kP: number;
  readonly kS: number;
  readonly S: number;
}

/** The encoder's intermediate data; see the file header. */
export interface Intermediates {
  /** The columns need no delivery: complete secondary slivers in the sink already, or not wanted (metadata only). */
  readonly columnsInPlace: boolean;
  /** The recovery rows need no delivery: primary slivers k_p…n−1 in the sink already, or not wanted. */
  readonly rowsInPlace: boolean;
  /** Whether slivers go to the sink at all (false: metadata only, e.g. `tusk blob-id` of a large file). */
  readonly deliver: boolean;
  /** Writes column c's symbols [r0, r0 + length/S) from mem[ptr, ptr+length). */
  writeColumn(mem: Uint8Array, ptr: number, length: number, c: number, r0: number): void;
  /** Reads column c's k_p symbols to mem[ptr, …). */
  readColumn(mem: Uint8Array, ptr: number, c: number): void;
  /** Writes recovery row j's (row k_p + j) symbols [c0, c0 + length/S) from mem[ptr, ptr+length). */
  writeRecoveryRow(mem: Uint8Array, ptr: number, length: number, j: number, c0: number): void;
  /** Reads recovery row j's k_s symbols to mem[ptr, …) (only when not in place). */
  readRecoveryRow(mem: Uint8Array, ptr: number, j: number): void;
  /** Closes every file (idempotent). */
  close(): void;
}

/** Temporary column and row files in `dir` (the encode's private directory, removed by the caller). */
export function tempFileIntermediates(dir: string, { kP, kS, S }: IntermediateLayout): Intermediates {
  const columnFd = openSync(join(dir, 'columns.bin'), 'w+');
  const rowFd = openSync(join(dir, 'rows.bin'), 'w+');
  const colBytes = kP * S,
    rowBytes = kS * S;
  let open = true;
  return {
    columnsInPlace: false,
    rowsInPlace: false,
    deliver: true,
    writeColumn: (mem, ptr, length, c, r0) => writeAll(columnFd, mem, ptr, length, c * colBytes + r0 * S),
    readColumn: (mem, ptr, c) => readAll(columnFd, mem, ptr, colBytes, c * colBytes),
    writeRecoveryRow: (mem, ptr, length, j, c0) => writeAll(rowFd, mem, ptr, length, j * rowBytes + c0 * S),
    readRecoveryRow: (mem, ptr, j) => readAll(rowFd, mem, ptr, rowBytes, j * rowBytes),
    close() {
      if (!open) return;
      open = false;
      closeSync(columnFd);
      closeSync(rowFd);
    },
  };
}

/**
 * Metadata only: the column file alone (phase B needs the columns); recovery rows are only hashed,
 * never stored, and no sliver is delivered — 1.5× the blob written at n = 1000 instead of 3.5×.
 */
export function metadataOnlyIntermediates(dir: string, { kP, S }: IntermediateLayout): Intermediates {
  const columnFd = openSync(join(dir, 'columns.bin'), 'w+');
  const colBytes = kP * S;
  let open = true;
  return {
    columnsInPlace: true,
    rowsInPlace: true,
    deliver: false,
    writeColumn: (mem, ptr, length, c, r0) => writeAll(columnFd, mem, ptr, length, c * colBytes + r0 * S),
    readColumn: (mem, ptr, c) => readAll(columnFd, mem, ptr, colBytes, c * colBytes),
    writeRecoveryRow: () => {},
    readRecoveryRow() {
      throw new Error('metadata only: recovery rows are not stored');
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(columnFd);
    },
  };
}

/** Open sliver files kept at once (least recently used closed first; reopened without truncation). */
const MAX_OPEN_SLIVER_FILES = 4096;

/**
 * In place: secondary sliver c's file holds column c, primary sliver k_p + j's file recovery row j.
 * Each file is created with its BCS header (ULEB data length) and trailer (u16 symbol size, u16
 * index) and its data filled by the positional writes.
 */
export function inPlaceIntermediates(sink: InPlaceSliverSink, { kP, kS, S }: IntermediateLayout): Intermediates {
  const colBytes = kP * S,
    rowBytes = kS * S;
  const open = new Map<string, number>();
  const created = new Set<string>();
  const fd = (axis: SliverAxis, index: number, dataBytes: number): { fd: number; head: number } => {
    const key = `${axis}/${index}`;
    const frame = new Uint8Array(10);
    const head = writeUleb(frame, 0, dataBytes);
    let f = open.get(key);
    if (f !== undefined) {
      open.delete(key); // refresh recency
      open.set(key, f);
      return { fd: f, head };
    }
    if (open.size >= MAX_OPEN_SLIVER_FILES) {
      const [oldest, oldFd] = open.entries().next().value!;
      open.delete(oldest);
      closeSync(oldFd);
    }
    const path = sink.sliverFile(axis, index);
    f = openSync(path, created.has(key) ? 'r+' : 'w+');
    open.set(key, f);
    if (!created.has(key)) {
      created.add(key);
      const tail = new Uint8Array([S & 0xff, S >>> 8, index & 0xff, index >>> 8]);
      writeAll(f, frame, 0, head, 0);
      writeAll(f, tail, 0, 4, head + dataBytes);
    }
    return { fd: f, head };
  };
  return {
    columnsInPlace: true,
    rowsInPlace: true,
    deliver: true,
    writeColumn(mem, ptr, length, c, r0) {
      const f = fd('secondary', c, colBytes);
      writeAll(f.fd, mem, ptr, length, f.head + r0 * S);
    },
    readColumn(mem, ptr, c) {
      const f = fd('secondary', c, colBytes);
      readAll(f.fd, mem, ptr, colBytes, f.head);
    },
    writeRecoveryRow(mem, ptr, length, j, c0) {
      const f = fd('primary', kP + j, rowBytes);
      writeAll(f.fd, mem, ptr, length, f.head + c0 * S);
    },
    readRecoveryRow() {
      throw new Error('in-place recovery rows are sliver files already');
    },
    close() {
      for (const f of open.values()) closeSync(f);
      open.clear();
    },
  };
}
