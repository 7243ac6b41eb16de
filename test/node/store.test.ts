/** The node's SQLite store on real files: locking, atomic transactions, status rules, expiry and GC. */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { NodeStore } from '../../src/node/store.ts';
import { tempDir } from './helpers.ts';
import { SliverData } from '../../src/codec/sliver.ts';
import { randomBytes } from '../helpers/blobs.ts';

const id = (b: number) => new Uint8Array(32).fill(b);
const ev = (seq: number) => ({ txDigest: `tx${seq}`, eventSeq: seq });

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

function open(): { store: NodeStore; path: string } {
  const t = tempDir();
  const path = join(t.dir, 'node.db');
  const store = NodeStore.open(path);
  cleanup.push(
    () => t.remove(),
    () => store.close(),
  );
  return { store, path };
}

describe('NodeStore', () => {
  it('migrates a slivers table of the old layout (WITHOUT ROWID) on open, keeping every sliver', () => {
    const t = tempDir();
    cleanup.push(() => t.remove());
    const path = join(t.dir, 'node.db');
    // The layout of stores written before 2026-12: the key as the table's primary key.
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE slivers (blob_id BLOB NOT NULL, pair INTEGER NOT NULL, axis INTEGER NOT NULL, bcs BLOB NOT NULL,
      PRIMARY KEY (blob_id, pair, axis)) STRICT, WITHOUT ROWID`);
    const rows = [0, 1, 2].flatMap((pair) =>
      [0, 1].map((axis) => ({ pair, axis, bcs: randomBytes(5000 + pair * 7 + axis, pair * 2 + axis) })),
    );
    const insert = old.prepare('INSERT INTO slivers VALUES (?, ?, ?, ?)');
    for (const r of rows) insert.run(id(9), r.pair, r.axis, r.bcs);
    old.close();

    const store = NodeStore.open(path);
    cleanup.push(() => store.close());
    for (const r of rows) expect(store.getSliver(id(9), r.pair, r.axis === 0 ? 'primary' : 'secondary')).toEqual(r.bcs);
    expect(store.counts().slivers).toBe(rows.length);
    // A duplicate key is still refused as already stored; a new one is stored.
    expect(store.putSliver(id(9), 0, 'primary', rows[0].bcs)).toBe('alreadyStored');
    expect(store.putSliver(id(9), 5, 'secondary', new Uint8Array([1, 2]))).toBe('stored');
    store.close();
    const check = new DatabaseSync(path);
    const { sql } = check.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'slivers'").get() as { sql: string };
    check.close();
    expect(sql).not.toMatch(/WITHOUT ROWID/i);
    expect(sql).toMatch(/UNIQUE \(blob_id, pair, axis\)/);
  });

  it('one process per data directory; the data is there after reopening', () => {
    const { store, path } = open();
    store.putMetadata(id(1), new Uint8Array([1, 2, 3]));
    expect(() => NodeStore.open(path)).toThrow(/in use by another process/);
    store.close();
    const again = NodeStore.open(path);
    expect(again.getMetadata(id(1))).toEqual(new Uint8Array([1, 2, 3]));
    again.close();
  });

  it("reads single symbols of a stored sliver without reading it whole (SQL substr), equal to the sliver's own", () => {
    const { store } = open();
    // Symbol size 300 and 200 symbols: a 2-byte ULEB length prefix, data beyond one page.
    const data = randomBytes(300 * 200, 3);
    const sliver = SliverData.create('secondary', data, 300, 17);
    store.putSliver(id(9), 4, 'secondary', sliver.toBcs().slice());
    const got = store.sliverSymbolsAt(id(9), 4, 'secondary', [0, 5, 199]);
    expect(got?.index).toBe(17);
    expect(got?.symbols).toEqual([sliver.symbol(0), sliver.symbol(5), sliver.symbol(199)]);
    expect(store.sliverSymbolsAt(id(9), 4, 'primary', [0])).toBeNull();
    expect(() => store.sliverSymbolsAt(id(9), 4, 'secondary', [200])).toThrow(/beyond/);
  });

  it('a failed transaction leaves nothing behind (cursor and effects together)', () => {
    const { store } = open();
    store.setEventCursor('c1');
    expect(() =>
      store.transaction(() => {
        store.registerObject(id(2), '0x02', false, 5, ev(1));
        store.setEventCursor('c2');
        throw new Error('crash in the middle');
      }),
    ).toThrow('crash in the middle');
    expect(store.eventCursor()).toBe('c1');
    expect(store.liveObjects(id(2), 0)).toEqual([]);
  });

  it('puts are idempotent and report whether they stored', () => {
    const { store } = open();
    expect(store.putSliver(id(3), 4, 'primary', new Uint8Array([9]))).toBe('stored');
    expect(store.putSliver(id(3), 4, 'primary', new Uint8Array([8]))).toBe('alreadyStored');
    expect(store.getSliver(id(3), 4, 'primary')).toEqual(new Uint8Array([9]));
    expect(store.getSliver(id(3), 4, 'secondary')).toBeNull();
    expect([...store.storedSliverKeys(id(3))]).toEqual(['4:p']);
  });

  it('blob status: certified permanent wins over registered, then the later end epoch; deletable counts', () => {
    const { store } = open();
    const b = id(4);
    store.registerObject(b, '0xa', false, 9, ev(1));
    store.registerObject(b, '0xb', false, 7, ev(2));
    store.registerObject(b, '0xc', true, 6, ev(3));
    expect(store.blobStatus(b, 1)).toMatchObject({
      permanent: { endEpoch: 9, isCertified: false, statusEvent: { txDigest: 'tx1', eventSeq: '1' } },
    });
    store.certifyObject(b, '0xb', false, 2, 8, ev(4));
    store.certifyObject(b, '0xc', true, 3, 6, ev(5));
    expect(store.blobStatus(b, 3)).toEqual({
      permanent: {
        endEpoch: 8,
        isCertified: true,
        statusEvent: { txDigest: 'tx4', eventSeq: '4' },
        initialCertifiedEpoch: 2,
        deletableCounts: { count_deletable_total: 1, count_deletable_certified: 1 },
      },
    });
    // An extension keeps the first certified epoch and moves the end epoch.
    store.certifyObject(b, '0xb', false, 5, 12, ev(6));
    expect(store.blobStatus(b, 5)).toMatchObject({ permanent: { endEpoch: 12, initialCertifiedEpoch: 2 } });
  });

  it('expiry and deletion collect a blob only when no live object is left', () => {
    const { store } = open();
    const b = id(5);
    store.registerObject(b, '0x1', true, 3, ev(1));
    store.registerObject(b, '0x2', false, 5, ev(2));
    store.putMetadata(b, new Uint8Array([1]));
    store.putSliver(b, 0, 'primary', new Uint8Array([2]));
    expect(store.deleteObject('0x1', 2)).toBe(false); // 0x2 still lives
    expect(store.hasMetadata(b)).toBe(true);
    expect(store.expire(4)).toBe(0);
    expect(store.isRegistered(b, 4)).toBe(true);
    expect(store.expire(5)).toBe(1);
    expect(store.isRegistered(b, 5)).toBe(false);
    expect(store.hasMetadata(b)).toBe(false);
    expect(store.storedSliverKeys(b).size).toBe(0);
    expect(store.blobStatus(b, 5)).toBe('nonexistent');
  });

  it('shards per epoch: unknown epochs are null, recorded ones replace earlier records', () => {
    const { store } = open();
    expect(store.shards(1)).toBeNull();
    store.setShards(1, [3, 1, 2]);
    expect(store.shards(1)).toEqual([1, 2, 3]);
    store.setShards(1, []);
    expect(store.shards(1)).toEqual([]);
    expect(() => store.setCurrentEpoch(-1)).toThrow(/u32/);
  });
});
