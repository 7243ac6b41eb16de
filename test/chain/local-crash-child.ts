/**
 * Child process of the LocalChain kill -9 test: opens the chain file given as argv[2], funds a
 * sender from the faucet, then transfers 1 FROST to argv[3] in a loop and prints "ack <n>" after
 * each acknowledged call, until it is killed.
 */
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../../src/chain/local/index.ts';

const [path, recipient] = process.argv.slice(2);
const chain = await LocalChain.open({ path });
const sender = new Ed25519Keypair();
await chain.requestFaucet(sender.toSuiAddress(), 1_000_000n);
process.stdout.write('ready\n');
for (let n = 1; ; n++) {
  await chain.transferWal(sender, recipient, 1n);
  process.stdout.write(`ack ${n}\n`);
}
