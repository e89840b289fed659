// TLS for synod's listeners (the peer transport and the gRPC server), with
// etcd's model: a certificate and key, and optionally a CA that the other
// side's certificate must chain to (required of clients with clientCertAuth).

import type { Server, Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';

export interface TlsIdentity {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  /** Ask each client for a certificate that chains to `ca`; refuse the handshake without one. */
  readonly clientCertAuth: boolean;
}

/**
 * A TLS server that calls `onSecure` with each socket once its handshake is
 * done. It also keeps every accepted TCP socket in `rawSockets` until it
 * closes: a socket still in its handshake is no connection yet, and would
 * hold `server.close()` open until the handshake times out unless the owner
 * destroys it.
 */
export function createSecureServer(tls: TlsIdentity, onSecure: (socket: TLSSocket) => void,
  alpn?: readonly string[]): { server: Server; rawSockets: Set<Socket> } {
  const server = createServer({
    cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    requestCert: tls.clientCertAuth, rejectUnauthorized: tls.clientCertAuth,
    ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
  }, onSecure);
  const rawSockets = new Set<Socket>();
  server.on('connection', (raw: Socket) => {
    rawSockets.add(raw);
    raw.once('close', () => rawSockets.delete(raw));
  });
  return { server, rawSockets };
}
