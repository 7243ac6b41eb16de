/** The chain: the `Chain` interface, signed transactions, the chain JSON codec and the local chain. */
export * from './types.ts';
export * from './json.ts';
export * from './transaction.ts';
export * from './signing-chain.ts';
export * from './local/index.ts';
