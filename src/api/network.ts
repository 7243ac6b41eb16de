/**
 * `tusk/network`: a local Walrus-like network of processes (the chain server and storage nodes,
 * what `tusk dev` runs), the client's config and wallet files, and the store flow's cost helpers.
 */
export { startDevNetwork } from '../network/dev-network.ts';
export type { DevNetwork, DevNetworkOptions } from '../network/dev-network.ts';
export { loadClientConfig, writeClientConfig, loadWallet } from '../client/client-config.ts';
export type { ClientConfig, ClientSuiConfig } from '../client/client-config.ts';
export { storageCost } from '../client/store-blob.ts';
export type { UploadSummary } from '../client/store-blob.ts';
