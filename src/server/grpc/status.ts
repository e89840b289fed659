// gRPC status codes and the typed error a handler throws to choose one.
// Codes are the numbers of the gRPC wire protocol (grpc/doc/statuscodes.md).

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const NAMES: readonly string[] = Object.keys(GrpcStatus);

export function statusName(code: number): string {
  return NAMES[code] ?? `STATUS_${code}`;
}

/**
 * The error a handler throws (or rejects with) to answer a call with a given
 * gRPC status. Any other thrown value is answered UNKNOWN with its message.
 * `trailers` become extra trailing metadata (ASCII values only).
 */
export class GrpcError extends Error {
  override readonly name = 'GrpcError';
  constructor(
    readonly code: GrpcStatusCode,
    message: string,
    readonly trailers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

/**
 * Percent-encodes a grpc-message value as the gRPC HTTP/2 protocol asks:
 * bytes outside printable ASCII (0x20-0x7E), and '%' itself, become %XX of
 * their UTF-8 bytes. The common all-printable message is returned as is.
 */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25
      ? '%' + byte.toString(16).toUpperCase().padStart(2, '0')
      : String.fromCharCode(byte);
  }
  return out;
}

/** Inverse of encodeGrpcMessage, for tests and clients; bad escapes stay as they are. */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The custom trailers of a GrpcError that may go on the wire: lower-case
 * token names that are not reserved (":" pseudo-headers, "grpc-"), with
 * printable-ASCII values. Anything else is dropped here rather than left to
 * make the HPACK encoder throw while the call ends.
 */
export function safeTrailers(extra: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (extra === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(extra)) {
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name) || name.startsWith('grpc-') || typeof value !== 'string') continue;
    if (!/^[\x20-\x7e]*$/.test(value)) continue;
    out[name] = value;
  }
  return out;
}
