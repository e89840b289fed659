// One TCP connection to a peer: frame decoding with a size limit, writes with
// back-pressure, and closing with a logged reason. A connection that sends a
// bad frame is closed; the node carries on.

import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FrameDecoder, FrameError } from './frame.js';
import type { Frame } from './frame.js';

export interface ConnectionEvents {
  /** A complete frame arrived. May call `fail` to refuse it. */
  frame(conn: Connection, frame: Frame): void;
  /** The connection is gone; `bad` when it was closed for a protocol error. */
  closed(conn: Connection, bad: boolean): void;
  /** The socket can take more after a write returned false. */
  drained(conn: Connection): void;
}

export class Connection {
  private readonly decoder: FrameDecoder;
  private done = false;
  private bad = false;
  /** Set once the hello exchange completed; the peer's id. */
  peer: number | null = null;
  /** A write returned false: wait for 'drain' before writing more. */
  blocked = false;

  constructor(
    readonly socket: Socket,
    maxFrameBytes: number,
    private readonly log: Logger,
    private readonly events: ConnectionEvents,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.blocked = false;
      this.events.drained(this);
    });
    socket.on('error', (e) => this.log.debug({ remote: this.remote, err: e.message }, 'peer connection error'));
    socket.on('close', () => {
      this.done = true;
      this.events.closed(this, this.bad);
    });
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  get closed(): boolean {
    return this.done || this.socket.destroyed;
  }

  /** Writes bytes; returns false when the socket is saturated (then wait for `drained`). */
  write(buf: Buffer): boolean {
    if (this.closed) return false;
    const ok = this.socket.write(buf);
    if (!ok) this.blocked = true;
    return ok;
  }

  /** Closes for a protocol error, logging why. */
  fail(reason: string): void {
    if (this.closed) return;
    this.bad = true;
    this.log.warn({ remote: this.remote, peer: this.peer, reason }, 'closing peer connection: protocol error');
    this.socket.destroy();
  }

  /**
   * Refuses the peer with one last frame that tells it why (a removed member),
   * then ends the connection: ended rather than destroyed, so that the frame
   * reaches the peer before the close; destroyed after `graceMs` regardless.
   */
  refuse(last: Buffer, reason: string, graceMs = 1000): void {
    if (this.closed) return;
    this.log.warn({ remote: this.remote, reason }, 'refusing peer connection');
    this.socket.end(last);
    setTimeout(() => this.socket.destroy(), graceMs).unref();
  }

  /** Closes without blame (stop, replaced, handshake timeout). */
  close(reason: string): void {
    if (this.closed) return;
    this.log.debug({ remote: this.remote, peer: this.peer, reason }, 'closing peer connection');
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      this.fail(e.message);
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      this.events.frame(this, f);
    }
  }
}
