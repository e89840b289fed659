// Peer transport: the Transport<M> interface, TCP and in-memory implementations.
// See docs/storage.md ("Transport").
export type { MessageHandler, PeerStats, QueueLimits, Transport, TransportStats } from './transport.js';
export { TcpTransport } from './tcp-transport.js';
export type { PeerAddress, TcpTransportOptions } from './tcp-transport.js';
export { MemoryNetwork, MemoryTransport } from './memory-transport.js';
export { FrameError, DEFAULT_MAX_FRAME_BYTES } from './frame.js';
