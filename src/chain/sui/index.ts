/** The Sui adapter of `Chain` (Walrus Mainnet/Testnet) and the Move BCS layouts it reads. */
export {
  SuiChain,
  WALRUS_NETWORKS,
  type SuiChainOptions,
  type SuiGasOptions,
  type WalrusSuiNetwork,
  type SuiWalrusState,
} from './sui-chain.ts';
export * as moveBcs from './move-bcs.ts';
