/**
 * `tusk/sui`: Tusk as a Walrus localnet. `tuskSuiClient({ url })` is an `@mysten/sui` `CoreClient`
 * over a Tusk chain server, so the official `@mysten/walrus` SDK stores and reads against
 * `tusk dev`; `registerLocalnetRoutes` / `LocalnetService` are the server side (docs/localnet.md).
 */
export {
  tuskSuiClient,
  localnetPackageConfig,
  TuskSuiClient,
  type TuskSuiClientOptions,
  type LocalnetPackageConfig,
} from '../chain/localnet/sui-client.ts';
export { registerLocalnetRoutes, LocalnetService, type LocalnetInfo } from '../chain/localnet/localnet-service.ts';
export { localnetIds, walCoinId, gasCoinId, type LocalnetIds } from '../chain/localnet/ids.ts';
export type { LocalnetEffects, LocalnetChangedObject, LocalnetEvent } from '../chain/localnet/execute.ts';
