// Loads synod's etcd .proto files (proto/ at the repository root) with
// protobufjs at start-up. protobufjs compiles a specialised encoder and
// decoder per message type on first use, the same code its static generator
// (pbjs) would emit, so the reflection API costs nothing on the hot path.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const RPC_PROTO = join('etcdserverpb', 'rpc.proto');
/** gRPC's standard health service, served beside etcd's API. */
const HEALTH_PROTO = join('grpc', 'health', 'v1', 'health.proto');
/** etcd's lock and election services (server-side recipes over the KV API). */
const LOCK_PROTO = join('v3lockpb', 'v3lock.proto');
const ELECTION_PROTO = join('v3electionpb', 'v3election.proto');

/**
 * The proto/ folder: found by walking up from this module, which sits at
 * src/server/grpc/ in the source tree and at <outDir>/src/server/grpc/ when built.
 */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, RPC_PROTO))) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`cannot find proto/${RPC_PROTO} above ${fileURLToPath(import.meta.url)}; ` +
    'synod ships its .proto files in proto/ at the package root');
}

let cached: protobuf.Root | undefined;

/** The etcd v3 API as a resolved protobufjs Root (field names as in the .proto files). */
export function loadEtcdRoot(): protobuf.Root {
  if (cached !== undefined) return cached;
  const base = protoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string) => resolve(base, target);
  root.loadSync([RPC_PROTO, HEALTH_PROTO, LOCK_PROTO, ELECTION_PROTO], { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}

export type Long = protobuf.Long;

/** A Long (any 64-bit field of a response) from a bigint, exactly. */
export function longFromBigInt(value: bigint, unsigned = false): Long {
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned };
}

/** A decoded Long as an exact bigint (signed or not as the field is). */
export function longToBigInt(value: Long): bigint {
  const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
  return value.unsigned ? bits : BigInt.asIntN(64, bits);
}

/** A decoded Long as a number; exact only within +-2^53 (check with Number.isSafeInteger). */
export function longToNumber(value: Long): number {
  const high = value.unsigned ? value.high >>> 0 : value.high | 0;
  return high * 4294967296 + (value.low >>> 0);
}
