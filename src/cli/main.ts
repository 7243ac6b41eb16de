/**
 * The `tusk` command-line interface. Output contract: results on stdout (with --json, one JSON
 * object with camelCase keys and nothing else — on failure `{"error":{kind,message,retryable}}`),
 * warnings and errors on stderr (one line), exit code 0 on success, 1 on failure, 2 on a usage
 * error (the reason and a pointer to `--help`), 130 when interrupted by Ctrl-C (SIGINT).
 */
import { readFile } from 'node:fs/promises';
import { TuskError, TuskInputError } from '../errors.ts';
import { describeFileError, UsageError } from './common.ts';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from './completion-command.ts';

// Command modules are imported when their command runs (dynamic `import()`), so `tusk blob-id`
// loads the codec and nothing of the chain, the node, HTTP or Sui, and `tusk --version` loads
// almost nothing. Only the full help (and `completion`, built from it) loads every module.

/** The whole usage text and each command's help topic (loads every command module). */
async function loadHelp(): Promise<{ usage: string; topics: Record<string, string> }> {
  const [codec, chain, client, dev, node, quilt, age, gateway, bench, attribute, site, system, dataset, challenge] = await Promise.all([
    import('./codec-commands.ts'),
    import('./chain-command.ts'),
    import('./client-commands.ts'),
    import('./dev-command.ts'),
    import('./node-command.ts'),
    import('./quilt-commands.ts'),
    import('./age-commands.ts'),
    import('./gateway-command.ts'),
    import('./bench-command.ts'),
    import('./attribute-commands.ts'),
    import('./site-commands.ts'),
    import('./system-commands.ts'),
    import('./dataset-commands.ts'),
    import('./challenge-commands.ts'),
  ]);
  const { CODEC_USAGE } = codec;
  const { CHAIN_USAGE } = chain;
  const { CLIENT_USAGE } = client;
  const { DEV_USAGE } = dev;
  const { NODE_USAGE } = node;
  const { QUILT_USAGE } = quilt;
  const { AGE_USAGE } = age;
  const { GATEWAY_USAGE } = gateway;
  const { BENCH_USAGE } = bench;
  const { ATTRIBUTE_USAGE, ATTRIBUTE_COMMANDS } = attribute;
  const { SITE_USAGE } = site;
  const { HEALTH_USAGE } = system;
  const { DATASET_USAGE } = dataset;
  const { CHALLENGE_USAGE } = challenge;
  const usage = `Usage: tusk <command> [options]      (tusk <command> --help: that command's options)

${CODEC_USAGE}
${CLIENT_USAGE}
${QUILT_USAGE}
${SITE_USAGE}
${DATASET_USAGE}
${DEV_USAGE}
${CHAIN_USAGE}
${NODE_USAGE}
${AGE_USAGE}
${ATTRIBUTE_USAGE}
${CHALLENGE_USAGE}
${HEALTH_USAGE}
${GATEWAY_USAGE}
${BENCH_USAGE}

Shell completion:
  completion bash|zsh|fish    Print a completion script (bash: source <(tusk completion bash)).`;
  /** The help text of each command (`tusk <command> --help`). */
  const topics: Record<string, string> = {
    'blob-id': CODEC_USAGE,
    encode: CODEC_USAGE,
    decode: CODEC_USAGE,
    store: CLIENT_USAGE,
    read: CLIENT_USAGE,
    'blob-status': CLIENT_USAGE,
    'list-blobs': CLIENT_USAGE,
    extend: CLIENT_USAGE,
    delete: CLIENT_USAGE,
    info: CLIENT_USAGE,
    stake: CLIENT_USAGE,
    'list-storage': CLIENT_USAGE,
    dev: DEV_USAGE,
    chain: CHAIN_USAGE,
    wallet: CHAIN_USAGE,
    node: NODE_USAGE,
    bench: BENCH_USAGE,
    challenge: CHALLENGE_USAGE,
    site: SITE_USAGE,
    health: HEALTH_USAGE,
    dataset: DATASET_USAGE,
    ...Object.fromEntries([...ATTRIBUTE_COMMANDS].map((c) => [c, ATTRIBUTE_USAGE])),
  };
  return { usage, topics };
}

/** Ctrl-C aborts long work (so temporary files are removed); one listener per CLI run, removed after. */
const interrupts = {
  controller: undefined as AbortController | undefined,
  listener: undefined as (() => void) | undefined,
  signal(): AbortSignal {
    if (!this.controller) {
      const controller = (this.controller = new AbortController());
      this.listener = () => controller.abort(new TuskError('interrupted (SIGINT)'));
      process.once('SIGINT', this.listener);
    }
    return this.controller.signal;
  },
  dispose(): void {
    if (this.listener) process.removeListener('SIGINT', this.listener);
    this.controller = undefined;
    this.listener = undefined;
  },
};

function interruptSignal(): AbortSignal {
  return interrupts.signal();
}

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells expect. */
export const EXIT_INTERRUPTED = 130;

/** How a failure is reported: exit code, kind (for `--json`), one line for stderr. */
function classify(e: unknown, command: string | undefined): { code: number; kind: string; message: string; retryable: boolean } {
  if (interrupts.controller?.signal.aborted)
    return { code: EXIT_INTERRUPTED, kind: 'interrupted', message: 'interrupted (SIGINT)', retryable: true };
  if (e instanceof UsageError) return { code: 2, kind: 'usage', message: e.message, retryable: false };
  // node:util parseArgs of a command that does not go through parseCommand: still a usage error.
  if ((e as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS'))
    return { code: 2, kind: 'usage', message: `${command ?? 'tusk'}: ${(e as Error).message.split('\n')[0]}`, retryable: false };
  const file = describeFileError(e);
  if (file !== null) return { code: 1, kind: 'file', message: file, retryable: false };
  if (e instanceof TuskError)
    return { code: 1, kind: e instanceof TuskInputError ? 'input' : 'failed', message: e.message, retryable: e.retryable };
  // Anything else is our bug or the environment's: still one line and exit 1 (TUSK_DEBUG=1 prints the stack).
  return { code: 1, kind: 'internal', message: `internal error: ${(e as Error)?.message ?? String(e)}`, retryable: false };
}

/** Whether the command line asks for JSON output (before a `--` end of options). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Commands that never start the codec pool (nothing to close after them). */
const POOL_FREE: ReadonlySet<string | undefined> = new Set([undefined, '-h', '--help', 'help', '-v', '--version', 'completion']);

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    // The reader of our stdout went away (`tusk read … | head`): stop quietly, as `cat` does
    // (128 + SIGPIPE).
    if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') return 141;
    const { code, kind, message, retryable } = classify(e, argv[0]);
    const lines = message.split('\n');
    process.stderr.write(`tusk: ${lines.join(' ')}\n`);
    if (kind === 'usage') process.stderr.write(`Run 'tusk ${await helpTopic(argv)}--help' for usage.\n`);
    if (kind === 'internal' && process.env.TUSK_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    if (wantsJson(argv))
      process.stdout.write(JSON.stringify({ error: { kind, message: lines.join(' '), retryable, exitCode: code } }) + '\n');
    return code;
  } finally {
    interrupts.dispose();
    if (!POOL_FREE.has(argv[0])) await (await import('../pool/codec-pool.ts')).closeDefaultPool();
  }
}

/** `command ` (or `chain serve `…) for the `--help` pointer of a usage error. */
async function helpTopic(argv: string[]): Promise<string> {
  const [command, sub] = argv;
  if (command === undefined || !(command in (await loadHelp()).topics)) return '';
  return (command === 'chain' || command === 'wallet' || command === 'node') && sub !== undefined && !sub.startsWith('-')
    ? `${command} ${sub} `
    : `${command} `;
}

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `tusk <command> --help` (anywhere before `--`): that command's part of the help.
  const end = rest.indexOf('--');
  const options = end < 0 ? rest : rest.slice(0, end);
  if (command !== undefined && (options.includes('--help') || options.includes('-h'))) {
    const { topics } = await loadHelp();
    if (command in topics) {
      process.stdout.write(`Usage: tusk ${command} …\n\n${topics[command]}`);
      return 0;
    }
  }
  const usageError = (m: string) => new UsageError(m);
  switch (command) {
    case undefined:
      process.stderr.write((await loadHelp()).usage);
      return 2;
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write((await loadHelp()).usage);
      return 0;
    case '-v':
    case '--version': {
      const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
      process.stdout.write(`tusk ${pkg.version}\n`);
      return 0;
    }
    case 'blob-id':
    case 'encode':
    case 'decode':
      return (await import('./codec-commands.ts')).codecCommand(command, rest, interruptSignal);
    case 'chain':
      return (await import('./chain-command.ts')).chainCommand(rest, usageError);
    case 'wallet':
      return (await import('./chain-command.ts')).walletCommand(rest, usageError);
    case 'dev':
      return (await import('./dev-command.ts')).devCommand(rest);
    case 'node':
      return (await import('./node-command.ts')).nodeCommand(rest, usageError);
    case 'keygen':
    case 'encrypt':
    case 'decrypt':
      return (await import('./age-commands.ts')).ageCommand(command, rest, usageError);
    case 'publisher':
    case 'aggregator':
    case 'daemon':
      return (await import('./gateway-command.ts')).gatewayCommand(command, rest, usageError);
    case 'health':
      return (await import('./system-commands.ts')).healthCommand(rest, usageError);
    case 'dataset':
      return (await import('./dataset-commands.ts')).datasetCommand(rest, interruptSignal());
    case 'site':
      return (await import('./site-commands.ts')).siteCommand(rest, usageError, interruptSignal());
    case 'challenge':
      return (await import('./challenge-commands.ts')).challengeCommand(rest, usageError);
    case 'bench':
      return (await import('./bench-command.ts')).benchCommand(rest, usageError);
    case 'completion': {
      const shell = rest[0] as CompletionShell;
      if (rest.length !== 1 || !COMPLETION_SHELLS.includes(shell))
        throw new UsageError(`completion takes one shell: ${COMPLETION_SHELLS.join(', ')}`);
      process.stdout.write(completionScript(shell, (await loadHelp()).usage));
      return 0;
    }
    case 'store':
    case 'read':
    case 'blob-status':
    case 'list-blobs':
    case 'list-storage':
    case 'extend':
    case 'delete':
    case 'info':
    case 'stake':
      return (await import('./client-commands.ts')).clientCommand(command, rest, usageError, interruptSignal());
    case 'store-quilt':
    case 'read-quilt':
    case 'list-patches-in-quilt':
      return (await import('./quilt-commands.ts')).quiltCommand(command, rest, usageError, interruptSignal());
    default: {
      const attribute = await import('./attribute-commands.ts');
      if (attribute.ATTRIBUTE_COMMANDS.has(command)) return attribute.attributeCommand(command, rest, usageError);
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  }
}
