/**
 * `tusk completion bash|zsh|fish`: the scripts name every command and option of the usage text;
 * the bash script is loaded into a real bash and asked to complete, as a shell would.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runTusk, TUSK_BIN } from './helpers/cli.ts';

describe('tusk completion', () => {
  it('bash: completes commands, options and files in a real bash', async () => {
    const r = await runTusk(['completion', 'bash']);
    expect(r.code, r.stderr).toBe(0);
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source <("$NODE" "$BIN" completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tusk; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        {
          env: { ...process.env, NODE: process.execPath, BIN: TUSK_BIN },
          encoding: 'utf8',
        },
      )
        .trim()
        .split('\n');
    expect(complete(['tusk', 'st'])).toEqual(expect.arrayContaining(['store', 'stake']));
    expect(complete(['tusk', 'bl'])).toEqual(['blob-id', 'blob-status']);
    expect(complete(['tusk', 'store', '--epo'])).toEqual(expect.arrayContaining(['--epochs', '--epoch-duration']));
    expect(complete(['tusk', 'read', 'x', '--ou'])).toContain('--out');
    expect(complete(['tusk', 'read', '/et'])).toContain('/etc');
  });

  it('zsh and fish scripts name the commands and options; usage errors exit 2', async () => {
    const help = (await runTusk(['--help'])).stdout;
    for (const shell of ['zsh', 'fish']) {
      const r = await runTusk(['completion', shell]);
      expect(r.code).toBe(0);
      for (const word of ['store', 'read', 'encode', 'bench', 'completion']) expect(r.stdout).toContain(word);
      expect(r.stdout).toContain(shell === 'fish' ? '-l epochs' : '--epochs');
    }
    expect(help).toMatch(/completion bash\|zsh\|fish/);
    if (existsSync('/usr/bin/zsh')) execFileSync('zsh', ['-n', '-c', (await runTusk(['completion', 'zsh'])).stdout]);
    expect((await runTusk(['completion', 'tcsh'])).code).toBe(2);
    expect((await runTusk(['completion'])).code).toBe(2);
  });
});
