// gRPC's standard health service (grpc.health.v1.Health) on a member, beside
// etcd's API, for load balancers and Kubernetes gRPC probes. A member is
// SERVING while it knows a leader, as etcd's /health answers; the server as a
// whole ("") and each of its services are known, anything else is not
// (Check: NOT_FOUND; Watch: SERVICE_UNKNOWN, and the stream stays open).

import type { EtcdHandlers, ServerStreamCall } from './grpc/handlers.js';
import { ETCD_METHODS } from './grpc/handlers.js';
import type * as T from './grpc/etcd-types.js';
import { ServingStatus } from './grpc/etcd-types.js';
import { GrpcError, GrpcStatus } from './grpc/index.js';
import { qualifiedService } from './grpc/method-table.js';

export interface HealthOptions {
  /** Whether the member can serve now. */
  healthy(): boolean;
  /** How often a Watch looks for a change (default 500 ms). */
  readonly pollMs?: number;
}

/** "" and the fully qualified name of every service on the wire. */
function knownServices(): Set<string> {
  const out = new Set<string>(['']);
  for (const [service] of Object.values(ETCD_METHODS)) out.add(qualifiedService(service));
  return out;
}

export function healthHandlers(o: HealthOptions): Pick<EtcdHandlers, 'healthCheck' | 'healthWatch'> {
  const known = knownServices();
  const status = (): number => (o.healthy() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  return {
    healthCheck: (req) => {
      if (!known.has(req.service)) throw new GrpcError(GrpcStatus.NOT_FOUND, `unknown service ${req.service}`);
      return { status: status() };
    },
    healthWatch: async (req, call) => {
      if (!known.has(req.service)) {
        call.write({ status: ServingStatus.SERVICE_UNKNOWN });
        return waitCancelled(call);
      }
      let last = -1;
      while (!call.cancelled) {
        const now = status();
        if (now !== last) {
          last = now;
          call.write({ status: now });
        }
        await sleepOrCancel(call, o.pollMs ?? 500);
      }
    },
  };
}

function waitCancelled(call: ServerStreamCall<T.HealthCheckResponse>): Promise<void> {
  if (call.cancelled) return Promise.resolve();
  return new Promise((resolve) => call.signal.addEventListener('abort', () => resolve(), { once: true }));
}

function sleepOrCancel(call: ServerStreamCall<T.HealthCheckResponse>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    call.signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(t);
      call.signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
