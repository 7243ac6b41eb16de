/**
 * `tuskSuiClient({ url })`: an `@mysten/sui` `CoreClient` over a Tusk chain server's `/v1/sui/…`
 * routes (localnet-service.ts), so the official Walrus SDK runs unmodified against `tusk dev`:
 *
 *     const suiClient = tuskSuiClient({ url: 'http://127.0.0.1:9000' });
 *     const walrus = new WalrusClient({ suiClient, packageConfig, storageNodeUrlScheme: 'http' });
 *
 * It answers what the SDK and the Sui transaction resolver ask (walrus-sui.md §5.1): objects with
 * their Move BCS content, dynamic fields, coins and balances, the Move signatures of the walrus
 * package's entry points, the reference gas price, a gas estimate, execution and transaction
 * lookups. What a Walrus localnet has no use for (events and transaction queries, name service,
 * zkLogin, package listing) throws a clear error instead of answering something made up.
 *
 * Gas: the localnet charges none; `simulateTransaction` dry-runs the transaction on the chain
 * (rolled back: a transaction that would abort fails there, before it is signed, as on Sui) and
 * reports a fixed small cost so the resolver can set a budget; every address the chain knows has
 * one SUI gas coin.
 */
import { CoreClient, type SuiClientTypes } from '@mysten/sui/client';
import { normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import { ChainAbortError, ChainUnavailableError, TuskError, TuskInputError } from '../../errors.ts';
import { decodeChainJson, encodeChainJson } from '../json.ts';
import type { LocalnetEffects } from './execute.ts';
import type { SuiObject } from './objects.ts';
import type { LocalnetInfo } from './localnet-service.ts';
import { SUI_COIN_TYPE, SUI_FRAMEWORK } from './ids.ts';

/** Options of `tuskSuiClient`. */
export interface TuskSuiClientOptions {
  /** The chain server's base URL, e.g. `http://127.0.0.1:9000` (the client config's `chainUrl`). */
  readonly url: string;
  /** Per-request timeout in ms (default 30 000). */
  readonly timeoutMs?: number;
}

/** The `packageConfig` the Walrus SDK needs for a localnet: its System and Staking object IDs. */
export interface LocalnetPackageConfig {
  readonly systemObjectId: string;
  readonly stakingPoolId: string;
}

/** The gas cost (MIST) simulation reports: gas is not charged on the localnet. */
const SIMULATED_COMPUTATION_COST = '1000000';

type Json = Record<string, unknown>;

/** Creates the client (no request is made until the first call). */
export function tuskSuiClient(options: TuskSuiClientOptions): TuskSuiClient {
  return new TuskSuiClient(options);
}

/** Reads the localnet's `packageConfig` from its chain server. */
export async function localnetPackageConfig(url: string): Promise<LocalnetPackageConfig> {
  const info = await new TuskSuiClient({ url }).info();
  return { systemObjectId: info.systemObjectId, stakingPoolId: info.stakingObjectId };
}

/** The `CoreClient` (see the module comment). */
export class TuskSuiClient extends CoreClient {
  readonly url: string;
  readonly #timeoutMs: number;
  #info: Promise<LocalnetInfo> | null = null;

  constructor(options: TuskSuiClientOptions) {
    super({ network: 'localnet', base: undefined as never });
    if (!options || typeof options.url !== 'string' || !/^https?:\/\//.test(options.url))
      throw new TuskInputError(`tuskSuiClient needs the chain server's http(s) URL, got ${JSON.stringify(options?.url)}`);
    this.url = options.url.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async #request<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T | null> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let res!: Response;
    const send = async () => {
      res = await fetch(this.url + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : encodeChainJson(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    };
    try {
      try {
        await send();
      } catch (e) {
        // A kept-alive connection the server closed as it was reused: sent once more. Every route
        // is safe to repeat (reads, and executions are idempotent by transaction digest).
        const code = (e as { cause?: { code?: string } }).cause?.code;
        if (signal?.aborted || timeout.aborted || (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET')) throw e;
        await send();
      }
    } catch (e) {
      throw new ChainUnavailableError(`cannot reach the Tusk chain server at ${this.url}: ${(e as Error).message}`, { cause: e });
    }
    const text = await res.text();
    if (res.status === 404 && text.includes('"ENotFound"')) return null;
    let value: unknown;
    try {
      value = decodeChainJson(text);
    } catch {
      throw new ChainUnavailableError(`${this.url}${path}: HTTP ${res.status}, not chain JSON`);
    }
    if (!res.ok) {
      const err = (value as { error?: { code?: string; message?: string; kind?: string; retryable?: boolean } }).error ?? {};
      if (err.kind === 'abort') throw new ChainAbortError(err.code ?? 'EAbort', err.message ?? 'aborted', { retryable: err.retryable });
      if (err.kind === 'input') throw new TuskInputError(`${err.code}: ${err.message}`);
      throw new ChainUnavailableError(`${this.url}${path}: HTTP ${res.status}: ${err.message ?? text.slice(0, 200)}`);
    }
    return value as T;
  }

  /** The localnet's identifiers and epoch (identifiers cached; the epoch is fresh). */
  async info(signal?: AbortSignal): Promise<LocalnetInfo> {
    const fresh = this.#request<LocalnetInfo>('GET', '/v1/sui/info', undefined, signal).then((i) => i!);
    this.#info ??= fresh;
    fresh.catch(() => {
      this.#info = null;
    });
    return fresh;
  }

  async #ids(): Promise<LocalnetInfo> {
    this.#info ??= this.info();
    try {
      return await this.#info;
    } catch (e) {
      this.#info = null;
      throw e;
    }
  }

  #object(o: SuiObject, include: SuiClientTypes.ObjectInclude | undefined): SuiClientTypes.Object<SuiClientTypes.ObjectInclude> {
    return {
      objectId: o.objectId,
      version: o.version,
      digest: o.digest,
      owner: o.owner as SuiClientTypes.ObjectOwner,
      type: o.type,
      content: (include?.content ? new Uint8Array(o.content) : undefined) as never,
      previousTransaction: (include?.previousTransaction ? o.previousTransaction : undefined) as never,
      objectBcs: undefined as never,
      json: (include?.json ? null : undefined) as never,
      display: (include?.display ? null : undefined) as never,
    };
  }

  override async getObjects<Include extends SuiClientTypes.ObjectInclude = {}>(
    options: SuiClientTypes.GetObjectsOptions<Include>,
  ): Promise<SuiClientTypes.GetObjectsResponse<Include>> {
    const ids = options.objectIds.map((id) => normalizeSuiAddress(id));
    const r = await this.#request<{ objects: (SuiObject | null)[] }>('POST', '/v1/sui/objects', { objectIds: ids }, options.signal);
    return {
      objects: r!.objects.map((o, i) => (o ? this.#object(o, options.include) : new Error(`Object ${ids[i]} not found`))),
    } as SuiClientTypes.GetObjectsResponse<Include>;
  }

  override async getDynamicField(options: SuiClientTypes.GetDynamicFieldOptions): Promise<SuiClientTypes.GetDynamicFieldResponse> {
    const nameType = options.name.type;
    const o = await this.#request<SuiObject>(
      'POST',
      '/v1/sui/dynamic-field',
      { parentId: normalizeSuiAddress(options.parentId), nameType, nameBcs: options.name.bcs },
      options.signal,
    );
    if (!o) throw new Error(`Dynamic field ${nameType} of ${options.parentId} not found`);
    const valueType = o.type.slice(o.type.indexOf(',') + 1, -1).trim();
    return {
      dynamicField: {
        $kind: 'DynamicField',
        fieldId: o.objectId,
        digest: o.digest,
        version: o.version,
        type: o.type,
        previousTransaction: o.previousTransaction,
        name: { type: nameType, bcs: options.name.bcs },
        value: { type: valueType, bcs: new Uint8Array(o.content.slice(32 + options.name.bcs.length)) },
        valueType,
      } as SuiClientTypes.GetDynamicFieldResponse['dynamicField'],
    };
  }

  async #coins(owner: string, coinType: string | undefined, signal?: AbortSignal): Promise<SuiObject[]> {
    const t = normalizeStructTag(coinType ?? SUI_COIN_TYPE);
    const r = await this.#request<{ objects: SuiObject[] }>(
      'GET',
      `/v1/sui/owners/${normalizeSuiAddress(owner)}/coins?coinType=${encodeURIComponent(t)}`,
      undefined,
      signal,
    );
    return r!.objects;
  }

  override async listCoins(options: SuiClientTypes.ListCoinsOptions): Promise<SuiClientTypes.ListCoinsResponse> {
    // One coin per type and address: one page, whatever the cursor.
    const coins = options.cursor ? [] : await this.#coins(options.owner, options.coinType, options.signal);
    return {
      objects: coins.map((c) => ({
        objectId: c.objectId,
        version: c.version,
        digest: c.digest,
        owner: c.owner as SuiClientTypes.ObjectOwner,
        type: c.type,
        balance: c.balance ?? '0',
      })),
      hasNextPage: false,
      cursor: null,
    };
  }

  override async getBalance(options: SuiClientTypes.GetBalanceOptions): Promise<SuiClientTypes.GetBalanceResponse> {
    const coinType = normalizeStructTag(options.coinType ?? SUI_COIN_TYPE);
    const total = (await this.#coins(options.owner, coinType, options.signal)).reduce((s, c) => s + BigInt(c.balance ?? '0'), 0n);
    return { balance: { coinType, balance: String(total), coinBalance: String(total), addressBalance: '0' } };
  }

  override async listBalances(options: SuiClientTypes.ListBalancesOptions): Promise<SuiClientTypes.ListBalancesResponse> {
    const { walType } = await this.#ids();
    const balances = await Promise.all([SUI_COIN_TYPE, walType].map((coinType) => this.getBalance({ owner: options.owner, coinType })));
    return { balances: balances.map((b) => b.balance).filter((b) => b.balance !== '0'), hasNextPage: false, cursor: null };
  }

  override async getCoinMetadata(options: SuiClientTypes.GetCoinMetadataOptions): Promise<SuiClientTypes.GetCoinMetadataResponse> {
    const { walType } = await this.#ids();
    const t = normalizeStructTag(options.coinType);
    if (t === SUI_COIN_TYPE)
      return {
        coinMetadata: { id: null, decimals: 9, name: 'Sui', symbol: 'SUI', description: 'localnet gas (not charged)', iconUrl: null },
      };
    if (t === normalizeStructTag(walType))
      return {
        coinMetadata: { id: null, decimals: 9, name: 'WAL Token', symbol: 'WAL', description: 'WAL of a Tusk localnet', iconUrl: null },
      };
    return { coinMetadata: null };
  }

  override async listOwnedObjects<Include extends SuiClientTypes.ObjectInclude = {}>(
    options: SuiClientTypes.ListOwnedObjectsOptions<Include>,
  ): Promise<SuiClientTypes.ListOwnedObjectsResponse<Include>> {
    if (options.cursor) return { objects: [], hasNextPage: false, cursor: null };
    const type = options.type ? `?type=${encodeURIComponent(normalizeStructTag(options.type))}` : '';
    const r = await this.#request<{ objects: SuiObject[] }>(
      'GET',
      `/v1/sui/owners/${normalizeSuiAddress(options.owner)}/objects${type}`,
      undefined,
      options.signal,
    );
    return {
      objects: r!.objects.map((o) => this.#object(o, options.include)) as SuiClientTypes.Object<Include>[],
      hasNextPage: false,
      cursor: null,
    };
  }

  #transaction<Include extends SuiClientTypes.TransactionInclude>(
    fx: LocalnetEffects,
    signatures: string[],
  ): SuiClientTypes.TransactionResult<Include> {
    const status = { success: true as const, error: null };
    const tx = {
      digest: fx.digest,
      signatures,
      epoch: String(fx.epoch),
      timestampMs: null,
      checkpoint: null,
      status,
      balanceChanges: [...fx.balanceChanges],
      effects: {
        bcs: null,
        version: 2,
        status,
        gasUsed: { computationCost: '0', storageCost: '0', storageRebate: '0', nonRefundableStorageFee: '0' },
        transactionDigest: fx.digest,
        gasObject: null,
        eventsDigest: null,
        dependencies: [],
        lamportVersion: fx.lamportVersion,
        changedObjects: fx.changedObjects.map((c) => ({ ...c })),
        unchangedConsensusObjects: [],
        auxiliaryDataDigest: null,
      },
      events: fx.events.map((e) => ({ ...e, bcs: new Uint8Array(e.bcs), json: null })),
      objectTypes: { ...fx.objectTypes },
      transaction: undefined,
      bcs: undefined,
    };
    return { $kind: 'Transaction', Transaction: tx } as unknown as SuiClientTypes.TransactionResult<Include>;
  }

  override async executeTransaction<Include extends SuiClientTypes.TransactionInclude = {}>(
    options: SuiClientTypes.ExecuteTransactionOptions<Include>,
  ): Promise<SuiClientTypes.TransactionResult<Include>> {
    const fx = await this.#request<LocalnetEffects>(
      'POST',
      '/v1/sui/transactions',
      { bytes: options.transaction, signatures: options.signatures },
      options.signal,
    );
    return this.#transaction(fx!, options.signatures);
  }

  override async getTransaction<Include extends SuiClientTypes.TransactionInclude = {}>(
    options: SuiClientTypes.GetTransactionOptions<Include>,
  ): Promise<SuiClientTypes.TransactionResult<Include>> {
    const fx = await this.#request<LocalnetEffects>(
      'GET',
      `/v1/sui/transactions/${encodeURIComponent(options.digest)}`,
      undefined,
      options.signal,
    );
    if (!fx) throw new Error(`Transaction ${options.digest} not found`);
    return this.#transaction(fx, []);
  }

  override async simulateTransaction<Include extends SuiClientTypes.SimulateTransactionInclude = {}>(
    options: SuiClientTypes.SimulateTransactionOptions<Include>,
  ): Promise<SuiClientTypes.SimulateTransactionResult<Include>> {
    // A real dry run on the chain (rolled back); gas is free on the localnet, so the cost reported
    // is a fixed small one that lets the resolver set a budget.
    const bytes = options.transaction instanceof Uint8Array ? options.transaction : await options.transaction.build({ client: this });
    const r = await this.#request<{ effects?: LocalnetEffects; error?: { code: string; message: string } }>(
      'POST',
      '/v1/sui/simulate',
      { bytes },
      options.signal,
    );
    const gasUsed = { computationCost: SIMULATED_COMPUTATION_COST, storageCost: '0', storageRebate: '0', nonRefundableStorageFee: '0' };
    if (r!.effects) {
      const ok = this.#transaction<Include>(r!.effects, []).Transaction!;
      return {
        $kind: 'Transaction',
        Transaction: { ...ok, effects: { ...ok.effects!, gasUsed } },
        commandResults: undefined,
      } as unknown as SuiClientTypes.SimulateTransactionResult<Include>;
    }
    const error = { $kind: 'Unknown', Unknown: null, message: r!.error!.message };
    const status = { success: false as const, error };
    return {
      $kind: 'FailedTransaction',
      FailedTransaction: {
        digest: '',
        signatures: [],
        epoch: null,
        timestampMs: null,
        checkpoint: null,
        status,
        effects: {
          bcs: null,
          version: 2,
          status,
          gasUsed,
          transactionDigest: '',
          gasObject: null,
          eventsDigest: null,
          dependencies: [],
          lamportVersion: null,
          changedObjects: [],
          unchangedConsensusObjects: [],
          auxiliaryDataDigest: null,
        },
      },
      commandResults: undefined,
    } as unknown as SuiClientTypes.SimulateTransactionResult<Include>;
  }

  override async getReferenceGasPrice(
    options?: SuiClientTypes.GetReferenceGasPriceOptions,
  ): Promise<SuiClientTypes.GetReferenceGasPriceResponse> {
    const info = await this.info(options?.signal);
    return { referenceGasPrice: String(info.referenceGasPrice) };
  }

  override async getCurrentSystemState(
    options?: SuiClientTypes.GetCurrentSystemStateOptions,
  ): Promise<SuiClientTypes.GetCurrentSystemStateResponse> {
    const i = await this.info(options?.signal);
    return {
      systemState: {
        systemStateVersion: '2',
        epoch: String(i.epoch),
        protocolVersion: '1',
        referenceGasPrice: String(i.referenceGasPrice),
        epochStartTimestampMs: String(i.epochStartMs),
        safeMode: false,
        safeModeStorageRewards: '0',
        safeModeComputationRewards: '0',
        safeModeStorageRebates: '0',
        safeModeNonRefundableStorageFee: '0',
        parameters: {
          epochDurationMs: String(i.epochDurationMs),
          stakeSubsidyStartEpoch: '0',
          maxValidatorCount: '0',
          minValidatorJoiningStake: '0',
          validatorLowStakeThreshold: '0',
          validatorLowStakeGracePeriod: '0',
        },
        storageFund: { totalObjectStorageRebates: '0', nonRefundableBalance: '0' },
        stakeSubsidy: {
          balance: '0',
          distributionCounter: '0',
          currentDistributionAmount: '0',
          stakeSubsidyPeriodLength: '0',
          stakeSubsidyDecreaseRate: 0,
        },
      },
    };
  }

  override async getChainIdentifier(
    options?: SuiClientTypes.GetChainIdentifierOptions,
  ): Promise<SuiClientTypes.GetChainIdentifierResponse> {
    void options;
    return { chainIdentifier: (await this.#ids()).chainIdentifier };
  }

  override async getProtocolConfig(): Promise<SuiClientTypes.GetProtocolConfigResponse> {
    return { protocolConfig: { protocolVersion: '1', featureFlags: {}, attributes: {} } };
  }

  override async getMoveFunction(options: SuiClientTypes.GetMoveFunctionOptions): Promise<SuiClientTypes.GetMoveFunctionResponse> {
    const info = await this.#ids();
    const pkg = normalizeSuiAddress(options.packageId);
    const table = pkg === info.walrusPackage ? walrusSignatures(info) : pkg === SUI_FRAMEWORK ? frameworkSignatures() : undefined;
    const parameters = table?.[`${options.moduleName}::${options.name}`];
    if (!parameters) throw new TuskError(`the Tusk localnet has no Move function ${pkg}::${options.moduleName}::${options.name}`);
    return {
      function: {
        packageId: pkg,
        moduleName: options.moduleName,
        name: options.name,
        visibility: 'public',
        isEntry: false,
        typeParameters: options.moduleName === 'coin' ? [{ constraints: [], isPhantom: false }] : [],
        parameters: parameters as SuiClientTypes.OpenSignature[],
        returns: [],
      } as SuiClientTypes.FunctionResponse,
    };
  }

  override resolveTransactionPlugin(): never {
    // undefined: the SDK resolves transactions locally with this client's reads.
    return undefined as never;
  }

  override async listDynamicFields(): Promise<never> {
    throw new TuskError('listDynamicFields is not served by the Tusk localnet');
  }
  override async listTransactions(): Promise<never> {
    throw new TuskError('listTransactions is not served by the Tusk localnet');
  }
  override async listEvents(): Promise<never> {
    throw new TuskError('listEvents is not served by the Tusk localnet (read events from getTransaction, or Tusk\u2019s /v1/events)');
  }
  override async verifyZkLoginSignature(): Promise<never> {
    throw new TuskError('zkLogin is not supported by the Tusk localnet');
  }
  override async defaultNameServiceName(): Promise<never> {
    throw new TuskError('the Tusk localnet has no name service');
  }
  override async resolveNameServiceAddress(): Promise<never> {
    throw new TuskError('the Tusk localnet has no name service');
  }
}

/** Move signatures the SDK and the resolver ask for (walrus-sui.md §3.1, §5.1). */
function walrusSignatures(info: LocalnetInfo): Record<string, Json[]> {
  const pkg = info.walrusPackage;
  const T = (typeName: string, typeParameters: Json[] = []): Json => ({ $kind: 'datatype', datatype: { typeName, typeParameters } });
  const P = (body: Json, reference: string | null = null): Json => ({ reference, body });
  const prim = (k: string): Json => ({ $kind: k });
  const txContext = P(T(`${SUI_FRAMEWORK}::tx_context::TxContext`), 'mutable');
  const system = T(`${pkg}::system::System`);
  const blob = T(`${pkg}::blob::Blob`);
  const coinWal = T(`${SUI_FRAMEWORK}::coin::Coin`, [T(normalizeStructTag(info.walType))]);
  const string = T('0x0000000000000000000000000000000000000000000000000000000000000001::string::String');
  const bytes: Json = { $kind: 'vector', vector: prim('u8') };
  return {
    'staking::stake_with_pool': [P(T(`${pkg}::staking::Staking`), 'mutable'), P(coinWal), P(T(`${SUI_FRAMEWORK}::object::ID`)), txContext],
    'system::reserve_space': [P(system, 'mutable'), P(prim('u64')), P(prim('u32')), P(coinWal, 'mutable'), txContext],
    'system::register_blob': [
      P(system, 'mutable'),
      P(T(`${pkg}::storage_resource::Storage`)),
      P(prim('u256')),
      P(prim('u256')),
      P(prim('u64')),
      P(prim('u8')),
      P(prim('bool')),
      P(coinWal, 'mutable'),
      txContext,
    ],
    'system::certify_blob': [P(system, 'immutable'), P(blob, 'mutable'), P(bytes), P(bytes), P(bytes)],
    'system::delete_blob': [P(system, 'immutable'), P(blob)],
    'system::extend_blob': [P(system, 'mutable'), P(blob, 'mutable'), P(prim('u32')), P(coinWal, 'mutable')],
    'blob::add_metadata': [P(blob, 'mutable'), P(T(`${pkg}::metadata::Metadata`))],
    'blob::insert_or_update_metadata_pair': [P(blob, 'mutable'), P(string), P(string)],
    'blob::remove_metadata_pair': [P(blob, 'mutable'), P(string, 'immutable')],
    'blob::burn': [P(blob)],
    'metadata::new': [txContext],
    'metadata::insert_or_update': [P(T(`${pkg}::metadata::Metadata`), 'mutable'), P(string), P(string)],
  };
}

function frameworkSignatures(): Record<string, Json[]> {
  return {
    'coin::destroy_zero': [
      {
        reference: null,
        body: {
          $kind: 'datatype',
          datatype: { typeName: `${SUI_FRAMEWORK}::coin::Coin`, typeParameters: [{ $kind: 'typeParameter', index: 0 }] },
        },
      },
    ],
  };
}
