/**
 * The localnet service: the chain server's Sui routes (`/v1/sui/…`), over which `tuskSuiClient`
 * (sui-client.ts) gives the official Walrus SDK a Sui `CoreClient`. It renders objects
 * (objects.ts) and executes Sui-signed transactions (execute.ts) on the served `LocalChain`.
 *
 * Routes (bodies and answers are chain JSON, src/chain/json.ts; errors as every chain route):
 *   GET  /v1/sui/info                          identifiers, epoch, reference gas price
 *   POST /v1/sui/objects {objectIds}           {objects: (object | null)[]}
 *   POST /v1/sui/dynamic-field {parentId, nameType, nameBcs}   the field object, or 404
 *   GET  /v1/sui/owners/:address/objects?type= {objects}
 *   GET  /v1/sui/owners/:address/coins?coinType= {objects}
 *   POST /v1/sui/transactions {bytes, signatures}  the effects (an executed digest: its stored effects)
 *   POST /v1/sui/simulate {bytes}              {effects} or {error: {code, message}}; always rolled back
 *   GET  /v1/sui/transactions/:digest          the effects, or 404
 */
import type { FastifyInstance } from 'fastify';
import { normalizeStructTag, normalizeSuiAddress, deriveDynamicFieldID } from '@mysten/sui/utils';
import { TuskInputError } from '../../errors.ts';
import type { LocalChain } from '../local/local-chain.ts';
import { decodeChainJson, encodeChainJson } from '../json.ts';
import { bcs } from '@mysten/sui/bcs';
import * as M from '../sui/move-bcs.ts';
import { localnetIds, LOCALNET_GAS_PRICE, type LocalnetIds } from './ids.ts';
import { LocalnetObjects, type SuiObject } from './objects.ts';
import { parseSuiTransaction, PtbInterpreter, verifySuiTransaction, type LocalnetEffects } from './execute.ts';
import { ChainAbortError } from '../../errors.ts';

/** What `GET /v1/sui/info` answers. */
export interface LocalnetInfo {
  readonly chainIdentifier: string;
  readonly systemObjectId: string;
  readonly stakingObjectId: string;
  readonly walrusPackage: string;
  readonly walType: string;
  readonly epoch: number;
  readonly epochStartMs: number;
  readonly epochDurationMs: number;
  readonly referenceGasPrice: bigint;
}

/** The Sui view of one `LocalChain` (reads and execution). */
export class LocalnetService {
  readonly chain: LocalChain;
  readonly ids: LocalnetIds;
  readonly objects: LocalnetObjects;

  private constructor(chain: LocalChain, ids: LocalnetIds) {
    this.chain = chain;
    this.ids = ids;
    this.objects = new LocalnetObjects(chain, ids);
  }

  static async open(chain: LocalChain): Promise<LocalnetService> {
    return new LocalnetService(chain, localnetIds(await chain.chainId()));
  }

  async info(): Promise<LocalnetInfo> {
    const s = await this.chain.systemState();
    return {
      chainIdentifier: this.ids.chainIdentifier,
      systemObjectId: this.ids.systemObjectId,
      stakingObjectId: this.ids.stakingObjectId,
      walrusPackage: this.ids.walrusPackage,
      walType: this.ids.walType,
      epoch: s.epoch,
      epochStartMs: s.epochStartMs,
      epochDurationMs: s.epochDurationMs,
      referenceGasPrice: LOCALNET_GAS_PRICE,
    };
  }

  /** The dynamic field `(nameType, nameBcs)` of `parentId`, or null. */
  dynamicField(parentId: string, nameType: string, nameBcs: Uint8Array): SuiObject | null {
    const id = deriveDynamicFieldID(parentId, nameType, nameBcs);
    if (id === this.objects.systemInnerId || id === this.objects.stakingInnerId) return this.objects.getObjects([id])[0] ?? null;
    if (
      nameType === 'vector<u8>' &&
      Buffer.from(nameBcs).equals(Buffer.from(bcs.vector(bcs.u8()).serialize(M.METADATA_FIELD_NAME).toBytes()))
    )
      return this.objects.getMetadataField(parentId);
    return null;
  }

  /**
   * Verifies and executes Sui transaction bytes (execute.ts).
   * @returns the effects; for a digest executed before, its stored effects (nothing runs again).
   * @throws ChainAbortError for a refused transaction (nothing of it applied).
   */
  async execute(bytes: Uint8Array, signatures: readonly string[]): Promise<LocalnetEffects> {
    const tx = await verifySuiTransaction(bytes, signatures);
    const result = (await this.chain.executeVerified(tx.digest, tx.sender, 'sui', (ctx) => ({
      sui: new PtbInterpreter(this.objects, ctx, tx).run(),
    }))) as { sui: LocalnetEffects };
    return result.sui;
  }

  /**
   * Dry-runs transaction bytes (no signature; the gas payment is not checked) and rolls back.
   * @returns the effects it would have, or the abort that would refuse it.
   */
  async simulate(bytes: Uint8Array): Promise<{ effects: LocalnetEffects } | { error: { code: string; message: string } }> {
    try {
      const tx = parseSuiTransaction(bytes);
      return { effects: await this.chain.dryRun(tx.sender, (ctx) => new PtbInterpreter(this.objects, ctx, tx, { simulate: true }).run()) };
    } catch (e) {
      if (e instanceof ChainAbortError) return { error: { code: e.code, message: e.message } };
      if (e instanceof TuskInputError) return { error: { code: 'EInvalidInput', message: e.message } };
      throw e;
    }
  }

  /** The stored effects of `digest`, or null. */
  transaction(digest: string): LocalnetEffects | null {
    const text = this.chain.readStore((s) => s.txResult(digest));
    if (text === null) return null;
    const r = decodeChainJson(text) as { sui?: LocalnetEffects };
    return r.sui ?? null;
  }
}

function address(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value))
    throw new TuskInputError(`${what} must be a 0x-prefixed hex address`);
  return normalizeSuiAddress(value);
}

/**
 * Adds the `/v1/sui/…` routes for `chain` to a chain server's fastify app (the server's error
 * handler, body parser and limits apply). Use as `startChainServer({ chain, routes })`.
 */
export async function registerLocalnetRoutes(app: FastifyInstance, chain: LocalChain): Promise<LocalnetService> {
  const svc = await LocalnetService.open(chain);
  const json = (reply: import('fastify').FastifyReply, value: unknown) =>
    reply.header('content-type', 'application/json').send(encodeChainJson(value));
  const notFound = (reply: import('fastify').FastifyReply, message: string) =>
    reply
      .code(404)
      .header('content-type', 'application/json')
      .send(JSON.stringify({ error: { code: 'ENotFound', message, retryable: false, kind: 'notFound' } }));
  type Req = import('fastify').FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string>; Body: unknown }>;
  const body = (req: Req): Record<string, unknown> => {
    if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body))
      throw new TuskInputError('body must be a JSON object');
    return req.body as Record<string, unknown>;
  };
  app.get('/v1/sui/info', async (_req, reply) => json(reply, await svc.info()));
  app.post('/v1/sui/objects', async (req, reply) => {
    const ids = body(req as Req).objectIds;
    if (!Array.isArray(ids) || ids.length > 1000) throw new TuskInputError('objectIds must be an array of at most 1000 IDs');
    return json(reply, { objects: svc.objects.getObjects(ids.map((x) => address(x, 'object ID'))) });
  });
  app.post('/v1/sui/dynamic-field', async (req, reply) => {
    const b = body(req as Req);
    if (typeof b.nameType !== 'string' || !(b.nameBcs instanceof Uint8Array))
      throw new TuskInputError('nameType (string) and nameBcs (bytes) are required');
    const field = svc.dynamicField(address(b.parentId, 'parentId'), b.nameType, b.nameBcs);
    if (!field) return notFound(reply, `no dynamic field ${b.nameType} of ${String(b.parentId)}`);
    return json(reply, field);
  });
  app.get('/v1/sui/owners/:address/objects', async (req, reply) => {
    const r = req as Req;
    const type = r.query.type ? normalizeStructTag(r.query.type) : undefined;
    return json(reply, { objects: svc.objects.ownedObjects(address(r.params.address, 'address'), type) });
  });
  app.get('/v1/sui/owners/:address/coins', async (req, reply) => {
    const r = req as Req;
    const coinType = normalizeStructTag(r.query.coinType || '0x2::sui::SUI');
    return json(reply, { objects: svc.objects.coins(address(r.params.address, 'address'), coinType) });
  });
  app.post('/v1/sui/transactions', async (req, reply) => {
    const b = body(req as Req);
    if (!(b.bytes instanceof Uint8Array) || !Array.isArray(b.signatures))
      throw new TuskInputError('bytes (bytes) and signatures (string[]) are required');
    return json(reply, await svc.execute(b.bytes, b.signatures as string[]));
  });
  app.post('/v1/sui/simulate', async (req, reply) => {
    const b = body(req as Req);
    if (!(b.bytes instanceof Uint8Array)) throw new TuskInputError('bytes (bytes) are required');
    return json(reply, await svc.simulate(b.bytes));
  });
  app.get('/v1/sui/transactions/:digest', async (req, reply) => {
    const digest = (req as Req).params.digest;
    if (!/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(digest)) throw new TuskInputError('malformed transaction digest');
    const fx = svc.transaction(digest);
    if (!fx) return notFound(reply, `no Sui transaction ${digest}`);
    return json(reply, fx);
  });
  return svc;
}
