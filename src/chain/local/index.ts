/** The embedded local chain: `LocalChain` and the pieces its tests and tools use. */
export { LocalChain, LOCAL_CHAIN_DEFAULTS, MAX_MAX_EPOCHS_AHEAD, type LocalChainOptions, type SupplyAudit } from './local-chain.ts';
export {
  dhondt,
  maxShardsPerNode,
  initialAssignment,
  transitionAssignment,
  quorumAbove,
  quorumBelow,
  DEFAULT_MAX_COMMITTEE_SIZE,
} from './epochs.ts';
export { storageUnits, encodedBlobLength } from './blobs.ts';
export { SYSTEM_ADDRESS } from './context.ts';
