// TCP transport between cluster members (docs/storage.md, "Transport").
//
// Connection rules: one connection per pair of members, dialled by the member
// with the LOWER id; the higher id only accepts. The dialler sends a hello
// (protocol version, cluster id, its node id) and the acceptor answers with its
// own after checking it: a wrong cluster, an unknown member, a member that
// should not dial us, or a bad first frame closes that connection with a
// logged reason. A new connection from a peer replaces its old one (it
// restarted). Frames from a replaced connection are ignored, so what is
// delivered from one peer stays in order.
//
// The dialler reconnects with exponential back-off and jitter; messages wait
// in the peer's bounded send queue meanwhile (oldest dropped when full).
// Queued messages are written in batches: everything queued in one event-loop
// turn goes out in one socket write, up to maxBatchBytes.

import { createServer, isIP } from 'node:net';
import type { Server, Socket } from 'node:net';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import type { NodeId } from '../core/ids.js';
import { Codec, isHello } from './codec.js';
import { Connection } from './connection.js';
import type { ConnectionEvents } from './connection.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FRAME_HELLO, FRAME_MESSAGE } from './frame.js';
import type { Frame } from './frame.js';
import { SendQueue } from './send-queue.js';
import { createSecureServer, type TlsIdentity } from './tls.js';
import { DEFAULT_MAX_QUEUED_MESSAGES } from './transport.js';
import type { MessageHandler, QueueLimits, Transport, TransportStats } from './transport.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface TcpTransportOptions<M> extends QueueLimits {
  readonly id: NodeId;
  /**
   * Members of different clusters refuse each other's connections. '' (a
   * member joining a running cluster, which does not know the id yet): the id
   * is learned from the first peer's hello; a hello with '' is accepted only
   * from a member already known here.
   */
  readonly clusterId: string;
  /** Where to listen for peers (port 0: any free port, see `address()`). */
  readonly listen: PeerAddress;
  /** Every other member and where it listens; more can be set later with setPeer. */
  readonly peers: ReadonlyMap<NodeId, PeerAddress | null>;
  readonly logger: Logger;
  /** Most bytes per socket write when draining a queue (default 256 KiB). */
  readonly maxBatchBytes?: number;
  /** Reconnect back-off: first delay and cap (defaults 50 ms and 2 s); each delay is jittered to 50-100%. */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** The peer must complete its hello within this time (default 5 s). */
  readonly handshakeTimeoutMs?: number;
  /** Checks a decoded message's shape; a failure closes the connection. Default: accept anything. */
  readonly validate?: (msg: unknown) => msg is M;
  /**
   * Every message holds only plain data (objects, arrays, numbers, strings,
   * booleans, null, byte arrays): frames use the faster plain encoding,
   * protocol version 2 (src/net/codec.ts). Both ends must agree.
   */
  readonly plainData?: boolean;
  /**
   * TLS between members (etcd's --peer-cert-file and friends): each side
   * presents `cert`; a dialler checks the acceptor's certificate against `ca`
   * (and the peer's address), and with clientCertAuth the acceptor checks the
   * dialler's too. Absent: plain TCP.
   */
  readonly tls?: TlsIdentity;
  /**
   * Members removed from the cluster: a hello from one of them is answered
   * with a refusal saying so (instead of only closing), so that a member that
   * missed its own removal learns it from the first peer it dials.
   */
  readonly isRemoved?: (id: NodeId) => boolean;
  /**
   * A dialled peer refused this member because the cluster removed it. With
   * this set, a member that dials no one (the highest id) and has had no
   * connection for `probeIntervalMs` (default 10 s) sends a probe hello to the
   * peers that should dial it, so that it too can hear that it was removed;
   * a peer that still knows it closes the probe without complaint.
   */
  readonly onRemovedByPeer?: (peer: NodeId) => void;
  readonly probeIntervalMs?: number;
  /** Source of jitter (default Math.random). */
  readonly random?: () => number;
}

interface PeerLink {
  readonly id: NodeId;
  addr: PeerAddress | null;
  readonly queue: SendQueue;
  conn: Connection | null;
  dialing: Connection | null;
  attempt: number;
  timer: NodeJS.Timeout | null;
  flushScheduled: boolean;
  sent: number;
  writes: number;
  received: number;
  /** With TLS: the last handshake failure logged for this peer (logged again only when it changes). */
  lastTlsError?: string;
}

export class TcpTransport<M> implements Transport<M> {
  readonly id: NodeId;
  private readonly codec: Codec;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly accepted = new Set<Connection>();
  /** With TLS: every accepted TCP socket, in its handshake or under a connection (dropped at stop). */
  private rawSockets = new Set<Socket>();
  private readonly maxFrameBytes: number;
  private readonly maxBatchBytes: number;
  private readonly log: Logger;
  private server: Server | null = null;
  private prober: NodeJS.Timeout | null = null;
  private handler: MessageHandler<M> = () => undefined;
  private running = false;
  private stopped = false;
  /** Messages sent after stop(). */
  private droppedAfterStop = 0;
  private badConnections = 0;
  private readonly events: ConnectionEvents;
  private clusterKey: string;

  constructor(private readonly opts: TcpTransportOptions<M>) {
    this.id = opts.id;
    this.codec = new Codec({ plain: opts.plainData === true });
    this.clusterKey = opts.clusterId;
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxBatchBytes = opts.maxBatchBytes ?? 256 * 1024;
    this.log = opts.logger.child({ component: 'transport', node: opts.id });
    for (const [id, addr] of opts.peers) this.setPeer(id, addr);
    this.events = {
      frame: (c, f) => this.onFrame(c, f),
      closed: (c, bad) => this.onClosed(c, bad),
      drained: (c) => {
        if (c.peer !== null) this.flush(this.links.get(c.peer as NodeId));
      },
    };
  }

  /** The cluster id in use: the one given, or the one learned from a peer ('' until then). */
  get clusterId(): string {
    return this.clusterKey;
  }

  /** Adds a member or changes its address (null: not known yet). */
  setPeer(id: NodeId, addr: PeerAddress | null): void {
    if (id === this.id) throw new RangeError(`node ${id} cannot be its own peer`);
    const link = this.links.get(id);
    if (link !== undefined) {
      link.addr = addr;
      if (this.running && this.dials(id)) this.dial(link);
      return;
    }
    const queue = new SendQueue(this.opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES);
    const fresh: PeerLink = { id, addr, queue, conn: null, dialing: null, attempt: 0, timer: null, flushScheduled: false, sent: 0, writes: 0, received: 0 };
    this.links.set(id, fresh);
    if (this.running && this.dials(id)) this.dial(fresh);
  }

  /** Forgets a member (removed from the cluster): closes its connection and drops its queue. */
  removePeer(id: NodeId): void {
    const link = this.links.get(id);
    if (link === undefined) return;
    this.links.delete(id);
    if (link.timer !== null) clearTimeout(link.timer);
    link.queue.clear();
    link.conn?.close('member removed');
    link.dialing?.close('member removed');
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.stopped) throw new Error('a stopped transport cannot be restarted; create a new one');
    const tls = this.opts.tls;
    let server: Server;
    if (tls === undefined) {
      server = createServer((socket) => this.onAccept(socket));
    } else {
      const secure = createSecureServer(tls, (socket) => this.onAccept(socket));
      server = secure.server;
      this.rawSockets = secure.rawSockets;
      server.on('tlsClientError', (err: Error) => this.log.warn({ err: err.message }, 'peer TLS handshake failed'));
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log.error({ err: e.message }, 'peer listener error'));
    this.server = server;
    this.running = true;
    for (const link of this.links.values()) if (this.dials(link.id)) this.dial(link);
    if (this.opts.onRemovedByPeer !== undefined) {
      this.prober = setInterval(() => this.probeIfIsolated(), this.opts.probeIntervalMs ?? 10_000);
      this.prober.unref();
    }
  }

  /** No connection at all since the last round: probe the peers that should be dialling this member. */
  private probeIfIsolated(): void {
    if (!this.running || [...this.links.values()].some((l) => l.conn !== null)) return;
    for (const link of this.links.values()) if (!this.dials(link.id)) this.dial(link, true);
  }

  /** The address actually listened on (the port is known after start). */
  address(): PeerAddress {
    const a = this.server?.address();
    if (a === null || a === undefined || typeof a === 'string') throw new Error('the transport is not listening');
    return { host: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.running) return;
    this.running = false;
    if (this.prober !== null) clearInterval(this.prober);
    for (const link of this.links.values()) {
      if (link.timer !== null) clearTimeout(link.timer);
      link.timer = null;
      link.conn?.close('transport stopped');
      link.dialing?.close('transport stopped');
      link.queue.clear();
    }
    for (const c of this.accepted) c.close('transport stopped');
    for (const s of this.rawSockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  send(to: NodeId, msg: M): void {
    const link = this.links.get(to);
    if (link === undefined) throw new RangeError(`node ${this.id} has no peer ${to}`);
    if (this.stopped) {
      this.droppedAfterStop++;
      return;
    }
    // Before start() messages wait in the queue like for a peer that is down.
    link.queue.push(encodeFrame(FRAME_MESSAGE, this.codec.encode(msg), this.maxFrameBytes));
    if (link.conn !== null && !link.flushScheduled) {
      link.flushScheduled = true;
      setImmediate(() => {
        link.flushScheduled = false;
        this.flush(link);
      });
    }
  }

  onMessage(handler: MessageHandler<M>): void {
    this.handler = handler;
  }

  connected(peer: NodeId): boolean {
    const link = this.links.get(peer);
    return link !== undefined && link.conn !== null;
  }

  stats(): TransportStats {
    const peers = [...this.links.values()].map((l) => ({
      peer: l.id,
      connected: l.conn !== null,
      queued: l.queue.length,
      sent: l.sent,
      writes: l.writes,
      received: l.received,
      dropped: l.queue.dropped,
    }));
    return { peers, badConnections: this.badConnections, droppedAfterStop: this.droppedAfterStop };
  }

  /** The lower id dials. */
  private dials(peer: NodeId): boolean {
    return this.id < peer;
  }

  private flush(link: PeerLink | undefined): void {
    if (link === undefined) return;
    const conn = link.conn;
    while (conn !== null && !conn.blocked && !conn.closed && link.queue.length > 0) {
      const batch = link.queue.takeBatch(this.maxBatchBytes);
      link.sent += batch.length;
      link.writes++;
      conn.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
    }
  }

  private helloFrame(): Buffer {
    return encodeFrame(FRAME_HELLO, this.codec.encodeHello({ v: this.codec.version, cluster: this.clusterKey, id: this.id }), this.maxFrameBytes);
  }

  /** `probe`: a hello to a peer that should dial this member, only to hear whether it was removed. */
  private dial(link: PeerLink, probe = false): void {
    if (!this.running || link.conn !== null || link.dialing !== null || link.timer !== null || link.addr === null) return;
    const tls = this.opts.tls;
    const socket = tls === undefined
      ? connect({ host: link.addr.host, port: link.addr.port })
      : tlsConnect({
        host: link.addr.host, port: link.addr.port, cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        // A name, not an address, is sent as SNI (RFC 6066); the certificate is checked against either.
        ...(isIP(link.addr.host) === 0 ? { servername: link.addr.host } : {}),
      });
    const conn = new Connection(socket, this.maxFrameBytes, this.log, this.events);
    link.dialing = conn;
    const hello = probe
      ? encodeFrame(FRAME_HELLO, this.codec.encodeHello({ v: this.codec.version, cluster: this.clusterKey, id: this.id, probe: true }), this.maxFrameBytes)
      : this.helloFrame();
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => conn.write(hello));
    // A refused certificate is a setup mistake, not a peer being down: say so (once per reason and peer).
    if (tls !== undefined) socket.once('error', (e: Error & { code?: string }) => this.noteTlsFailure(link, e));
    this.armHandshakeTimer(conn);
  }

  private noteTlsFailure(link: PeerLink, e: Error & { code?: string }): void {
    if (!/CERT|SSL|TLS|certificate|handshake|self.signed|verify/i.test(`${e.code ?? ''} ${e.message}`)) return;
    if (link.lastTlsError === e.message) return;
    link.lastTlsError = e.message;
    this.log.warn({ peer: link.id, err: e.message }, 'peer TLS handshake failed');
  }

  private onAccept(socket: Socket): void {
    if (!this.running) {
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, this.maxFrameBytes, this.log, this.events);
    this.accepted.add(conn);
    this.armHandshakeTimer(conn);
  }

  private armHandshakeTimer(conn: Connection): void {
    const t = setTimeout(() => {
      if (conn.peer === null) conn.fail('no hello within the handshake timeout');
    }, this.opts.handshakeTimeoutMs ?? 5000);
    t.unref();
    conn.socket.once('close', () => clearTimeout(t));
  }

  private onFrame(conn: Connection, frame: Frame): void {
    let body: unknown;
    try {
      body = this.codec.decode(frame.body);
    } catch (e) {
      conn.fail(`undecodable ${frame.kind === FRAME_HELLO ? 'hello' : 'message'}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (conn.peer === null) {
      this.onHello(conn, frame.kind, body);
      return;
    }
    const link = this.links.get(conn.peer as NodeId);
    // Frames from a connection that a newer one replaced are dropped: per-peer order.
    if (link === undefined || link.conn !== conn) return;
    if (frame.kind !== FRAME_MESSAGE) return conn.fail('a second hello on an established connection');
    if (this.opts.validate !== undefined && !this.opts.validate(body)) return conn.fail('message fails validation');
    link.received++;
    this.handler(link.id, body as M);
  }

  /** Checks the peer's hello; returns a reason to refuse, or null. */
  private helloProblem(kind: number, body: unknown, dialled: PeerLink | null): string | null {
    if (kind !== FRAME_HELLO || !isHello(body)) return 'the first frame is not a hello';
    if (body.v !== this.codec.version) return `protocol version ${body.v}, expected ${this.codec.version}`;
    // '' on either side: a joining member that has not learned the id yet (links are checked below).
    if (body.cluster !== this.clusterKey && body.cluster !== '' && this.clusterKey !== '') return `cluster id "${body.cluster}" is not ours ("${this.clusterKey}")`;
    const id = body.id as NodeId;
    if (dialled !== null) return id === dialled.id ? null : `dialled node ${dialled.id} but node ${id} answered`;
    if (!this.links.has(id)) return `node ${id} is not a member known here`;
    if (!(id < this.id)) return `node ${id} should not dial node ${this.id} (the lower id dials)`;
    return null;
  }

  private onHello(conn: Connection, kind: number, body: unknown): void {
    const dialled = [...this.links.values()].find((l) => l.dialing === conn) ?? null;
    if (dialled !== null && kind === FRAME_HELLO && isHello(body) && body.refused === 'removed' && body.id === dialled.id) {
      conn.close(`peer ${dialled.id} refused this member: the cluster removed it`);
      this.log.error({ peer: dialled.id }, 'a peer refused this member: the cluster removed it');
      this.opts.onRemovedByPeer?.(dialled.id);
      return;
    }
    const problem = this.helloProblem(kind, body, dialled);
    if (problem !== null) {
      const id = isHello(body) ? (body.id as NodeId) : null;
      if (dialled === null && id !== null && !this.links.has(id) && this.opts.isRemoved?.(id) === true) {
        const refusal = encodeFrame(FRAME_HELLO, this.codec.encodeHello({ v: this.codec.version, cluster: this.clusterKey, id: this.id, refused: 'removed' }), this.maxFrameBytes);
        return conn.refuse(refusal, `node ${id} was removed from the cluster`);
      }
      // A probe from a member that is still known (it should be dialled, not dial): nothing to say.
      if (dialled === null && isHello(body) && body.probe === true && id !== null && this.links.has(id)) return conn.close(`probe from node ${id}`);
      return conn.fail(problem);
    }
    const link = dialled ?? this.links.get((body as { id: number }).id as NodeId)!;
    const cluster = (body as { cluster: string }).cluster;
    if (this.clusterKey === '' && cluster !== '') {
      this.clusterKey = cluster;
      this.log.info({ cluster, peer: link.id }, 'learned the cluster id from a peer');
    }
    conn.peer = link.id;
    if (dialled === null) {
      this.accepted.delete(conn);
      conn.write(this.helloFrame());
    }
    link.dialing = null;
    link.attempt = 0;
    link.conn?.close('replaced by a new connection from the same peer');
    link.conn = conn;
    this.log.info({ peer: link.id, remote: conn.remote }, 'peer connected');
    this.flush(link);
  }

  private onClosed(conn: Connection, bad: boolean): void {
    if (bad) this.badConnections++;
    this.accepted.delete(conn);
    for (const link of this.links.values()) {
      if (link.conn !== conn && link.dialing !== conn) continue;
      if (link.conn === conn) this.log.info({ peer: link.id }, 'peer disconnected');
      if (link.conn === conn) link.conn = null;
      if (link.dialing === conn) link.dialing = null;
      if (this.running && this.dials(link.id)) this.scheduleReconnect(link);
    }
  }

  private scheduleReconnect(link: PeerLink): void {
    if (link.timer !== null) return;
    const initial = this.opts.backoffInitialMs ?? 50;
    const cap = this.opts.backoffMaxMs ?? 2000;
    const base = Math.min(cap, initial * 2 ** Math.min(link.attempt, 30));
    const delay = base * (0.5 + 0.5 * (this.opts.random ?? Math.random)());
    link.attempt++;
    link.timer = setTimeout(() => {
      link.timer = null;
      this.dial(link);
    }, delay);
    link.timer.unref();
  }
}
