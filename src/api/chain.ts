/**
 * `tusk/chain`: the `Chain` interface with Walrus's Move rules, the embedded local chain (SQLite),
 * its HTTP server and remote client, and signed transactions.
 */
export type {
  Address,
  ObjectId,
  Chain,
  DevChain,
  SystemState,
  CommitteeInfo,
  CommitteeNode,
  EpochState,
  StorageResource,
  BlobObject,
  StakedWal,
  StorageNodeInfo,
  ChainEvent,
  ChainEventEnvelope,
  EventCursor,
  EventPage,
  EventQueryOptions,
  TxEffects,
  ReserveSpaceOptions,
  RegisterBlobOptions,
  CertificateOptions,
  RegisterNodeOptions,
  UpdateNodeOptions,
  OwnedObject,
  ShardMove,
} from '../chain/types.ts';
export { FROST_PER_WAL, BYTES_PER_UNIT_SIZE } from '../chain/types.ts';
export { LocalChain } from '../chain/local/index.ts';
export type { LocalChainOptions } from '../chain/local/index.ts';
export { RemoteChain } from '../chain/remote/client.ts';
export type { RemoteChainOptions } from '../chain/remote/client.ts';
export { startChainServer } from '../chain/remote/server.ts';
export type { ChainServerOptions, ChainServer } from '../chain/remote/server.ts';
export { signTransaction, verifyTransaction, transactionDigest } from '../chain/transaction.ts';
export type { SignedTransaction, TransactionData } from '../chain/transaction.ts';
export { SuiChain, WALRUS_NETWORKS } from '../chain/sui/index.ts';
export type { SuiChainOptions, SuiGasOptions, WalrusSuiNetwork } from '../chain/sui/index.ts';
export { openSuiChain, loadSuiWallet } from '../chain/sui/connect.ts';
