// The table the server dispatches on: one entry per gRPC path, built once at
// start-up from ETCD_METHODS, the loaded .proto files and the handlers given.
import type protobuf from 'protobufjs';
import { ETCD_METHODS, type CallKind, type EtcdHandlers } from './handlers.js';

/** A handler as the dispatcher calls it (argument shapes depend on the kind). */
export type AnyHandler = (this: EtcdHandlers, a: unknown, b?: unknown) => unknown;

export interface MethodEntry {
  /** "/etcdserverpb.KV/Put" */
  readonly path: string;
  /** "KV.Put", for messages. */
  readonly label: string;
  readonly kind: CallKind;
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
  /** Undefined: answered UNIMPLEMENTED. */
  readonly handler: AnyHandler | undefined;
  readonly handlers: EtcdHandlers;
}

const PACKAGE = 'etcdserverpb';

/** A service's full name: etcd's are named within etcdserverpb, others (grpc.health.v1.Health) in full. */
export function qualifiedService(service: string): string {
  return service.includes('.') ? service : `${PACKAGE}.${service}`;
}

export function buildMethodTable(root: protobuf.Root, handlers: EtcdHandlers): Map<string, MethodEntry> {
  const table = new Map<string, MethodEntry>();
  for (const key of Object.keys(ETCD_METHODS) as (keyof EtcdHandlers)[]) {
    const [service, method, kind] = ETCD_METHODS[key];
    const qualified = qualifiedService(service);
    const def = root.lookupService(qualified).methods[method];
    if (def === undefined) throw new Error(`proto/ has no ${qualified}/${method}; ETCD_METHODS and the .proto files disagree`);
    const protoKind: CallKind = def.requestStream === true ? 'bidi' : def.responseStream === true ? 'server-stream' : 'unary';
    if (protoKind !== kind) throw new Error(`${service}.${method} is ${protoKind} in rpc.proto but ${kind} in ETCD_METHODS`);
    const fn = handlers[key] as AnyHandler | undefined;
    if (fn !== undefined && typeof fn !== 'function') throw new Error(`handler ${key} must be a function`);
    table.set(`/${qualified}/${method}`, {
      path: `/${qualified}/${method}`,
      label: `${service}.${method}`,
      kind,
      requestType: root.lookupType(def.requestType),
      responseType: root.lookupType(def.responseType),
      handler: fn,
      handlers,
    });
  }
  return table;
}

/** gRPC's wording for a path that names no method ("unknown service" / "unknown method"). */
export function unknownMethodMessage(path: string, table: ReadonlyMap<string, MethodEntry>): string {
  const slash = path.lastIndexOf('/');
  const service = path.slice(1, Math.max(slash, 1));
  for (const entry of table.values()) {
    if (entry.path.startsWith(`/${service}/`)) return `unknown method ${path.slice(slash + 1)} for service ${service}`;
  }
  return `unknown service ${service}`;
}
