/**
 * The offline encryption commands as a user runs them (real processes): keygen (file mode,
 * -y), encrypt/decrypt through files and pipes, armor, --range, and the Debian `age` tool on
 * the other side; failures leave no output file.
 */
import { describe, expect, it, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runTusk, TUSK_BIN } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tusk-age-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const haveAge = existsSync('/usr/bin/age');
if (!haveAge) console.warn('\n\n!!!!! SKIPPING the age CLI half of test/age/cli.test.ts: /usr/bin/age is missing !!!!!\n\n');

describe('tusk keygen / encrypt / decrypt', () => {
  const key = join(dir, 'key.txt');
  const pt = randomBytes(150_000);
  writeFileSync(join(dir, 'pt'), pt);

  it('keygen writes a 0600 identity file in the age-keygen layout; -y prints its recipient', async () => {
    const k = await runTusk(['keygen', '-o', key]);
    expect(k.code, k.stderr).toBe(0);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const text = readFileSync(key, 'utf8');
    expect(text).toMatch(/^# created: .*\n# public key: age1[a-z0-9]{58}\nAGE-SECRET-KEY-1[A-Z0-9]{58}\n$/);
    const y = await runTusk(['keygen', '-y', key]);
    expect(y.stdout.trim()).toBe(/public key: (age1\w+)/.exec(text)![1]);
    expect((await runTusk(['keygen', '-o', key])).code).toBe(1); // never overwrites a key
    if (haveAge) expect(execFileSync('/usr/bin/age-keygen', ['-y', key], { encoding: 'utf8' }).trim()).toBe(y.stdout.trim());
  });

  it('encrypt -R / decrypt -i round trip; age decrypts tusk, tusk decrypts age (binary and armor)', async () => {
    const recipient = (await runTusk(['keygen', '-y', key])).stdout.trim();
    writeFileSync(join(dir, 'recips'), `${recipient}\n`);
    for (const armor of [[], ['-a']]) {
      const ct = join(dir, `ct${armor.length}`);
      expect((await runTusk(['encrypt', '-R', join(dir, 'recips'), ...armor, '-o', ct, join(dir, 'pt')])).code).toBe(0);
      const out = join(dir, `out${armor.length}`);
      const d = await runTusk(['decrypt', '-i', key, '-o', out, ct]);
      expect(d.code, d.stderr).toBe(0);
      expect(readFileSync(out)).toEqual(pt);
      if (haveAge) {
        expect(execFileSync('/usr/bin/age', ['-d', '-i', key, ct], { maxBuffer: 1 << 26 })).toEqual(pt);
        const agect = join(dir, `agect${armor.length}`);
        execFileSync('/usr/bin/age', ['-r', recipient, ...armor, '-o', agect, join(dir, 'pt')]);
        // Through pipes: stdin → stdout.
        expect(
          execFileSync(process.execPath, [TUSK_BIN, 'decrypt', '-i', key], { input: readFileSync(agect), maxBuffer: 1 << 26 }),
        ).toEqual(pt);
      }
    }
    const r = execFileSync(process.execPath, [TUSK_BIN, 'decrypt', '-i', key, '--range', '70000-70009', join(dir, 'ct0')]);
    expect(r).toEqual(pt.subarray(70000, 70010));
  });

  it('errors: wrong key, tampered file, non-age input, bad flags — no output file left', async () => {
    const other = join(dir, 'other.txt');
    await runTusk(['keygen', '-o', other]);
    const out = join(dir, 'should-not-exist');
    const w = await runTusk(['decrypt', '-i', other, '-o', out, join(dir, 'ct0')]);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/^tusk: age: no identity matched/);
    const bad = readFileSync(join(dir, 'ct0'));
    bad[bad.length - 100] ^= 4;
    writeFileSync(join(dir, 'bad'), bad);
    const t = await runTusk(['decrypt', '-i', key, '-o', out, join(dir, 'bad')]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/chunk 2 failed authentication/);
    const n = await runTusk(['decrypt', '-i', key, '-o', out, join(dir, 'pt')]);
    expect(n.stderr).toMatch(/not an age-encrypted file/);
    expect(existsSync(out)).toBe(false);
    expect((await runTusk(['encrypt', '-o', out, join(dir, 'pt')])).code).toBe(2);
    expect((await runTusk(['encrypt', '-r', 'age1notakey', '-o', out, join(dir, 'pt')])).stderr).toMatch(/Bech32/);
    writeFileSync(join(dir, 'pw'), 'pw\n');
    expect(
      (
        await runTusk([
          'encrypt',
          '-r',
          (await runTusk(['keygen', '-y', key])).stdout.trim(),
          '--passphrase-file',
          join(dir, 'pw'),
          join(dir, 'pt'),
        ])
      ).code,
    ).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('keygen --pq: a hybrid post-quantum identity; encrypt -r age1pq1… / decrypt -i round trip; no mixing with classic keys', async () => {
    const pqKey = join(dir, 'pq.txt');
    const k = await runTusk(['keygen', '--pq', '-o', pqKey]);
    expect(k.code, k.stderr).toBe(0);
    expect(statSync(pqKey).mode & 0o777).toBe(0o600);
    const text = readFileSync(pqKey, 'utf8');
    expect(text).toMatch(/^# created: .*\n# public key: age1pq1[a-z0-9]+\nAGE-SECRET-KEY-PQ-1[A-Z0-9]+\n$/);
    const recipient = (await runTusk(['keygen', '-y', pqKey])).stdout.trim();
    expect(recipient).toBe(/public key: (age1pq1\w+)/.exec(text)![1]);
    const ct = join(dir, 'ct-pq');
    expect((await runTusk(['encrypt', '-r', recipient, '-o', ct, join(dir, 'pt')])).code).toBe(0);
    expect(readFileSync(ct).subarray(0, 200).toString('latin1')).toContain('-> mlkem768x25519 ');
    const out = join(dir, 'pt-pq');
    const d = await runTusk(['decrypt', '-i', pqKey, '-o', out, ct]);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(out)).toEqual(pt);
    // The classic key cannot read it, and a file for both kinds is refused before anything is written.
    expect((await runTusk(['decrypt', '-i', key, '-o', join(dir, 'nope'), ct])).stderr).toMatch(/no identity matched/);
    const classic = (await runTusk(['keygen', '-y', key])).stdout.trim();
    const mixed = await runTusk(['encrypt', '-r', recipient, '-r', classic, '-o', join(dir, 'mixed'), join(dir, 'pt')]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/cannot be mixed/);
    expect(existsSync(join(dir, 'mixed'))).toBe(false);
  });
});
