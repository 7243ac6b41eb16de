/** Runs the `tusk` CLI as a user does: a real Node process on bin/tusk.js. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Absolute path of bin/tusk.js. */
export const TUSK_BIN = new URL('../../bin/tusk.js', import.meta.url).pathname;

/** Options of {@link runTusk}: extra environment variables (merged over this process's). */
export interface RunTuskOptions {
  env?: Record<string, string>;
}

/** Runs `tusk <args>` to completion; never throws for a non-zero exit (it is in `code`). */
export async function runTusk(args: string[], options: RunTuskOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TUSK_BIN, ...args], {
      maxBuffer: 64 << 20,
      env: { ...process.env, ...options.env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
