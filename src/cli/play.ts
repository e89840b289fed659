// `synod play [--port N] [--host H]`: serves the playground (the static files
// Vite built into web/dist) on 127.0.0.1 with node:http and prints its URL.
// The playground runs the protocols in the browser; this server only serves
// files (GET and HEAD, inside the folder, with a content type).

import { createServer, type Server } from 'node:http';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from './errors.js';

/** web/dist of this checkout (the compiled file is dist/src/cli/play.js: three levels up). */
export const DEFAULT_PLAYGROUND_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

export interface Playground {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export class PlaygroundMissingError extends UsageError {}

/** Checks that `dir` holds a built playground; the error tells how to build it. */
export function checkBuilt(dir: string): void {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new PlaygroundMissingError(`the playground is not built: ${join(dir, 'index.html')} is missing. Run \`npm run build:web\` (vite build web) first.`);
  }
}

/** Serves `dir` on host:port (port 0: any free port). */
export async function servePlayground(opts: { dir?: string; port?: number; host?: string } = {}): Promise<Playground> {
  const root = resolve(opts.dir ?? DEFAULT_PLAYGROUND_DIR);
  checkBuilt(root);
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const what = `${host}:${opts.port ?? 0}`;
      fail(err.code === 'EADDRINUSE' ? new UsageError(`${what} is in use; pick another port with --port`) : err.code === 'EADDRNOTAVAIL' ? new UsageError(`cannot listen on ${what}: no such local address (--host)`) : err);
    });
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : (opts.port ?? 0);
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    server,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`--port must be an integer in 0..65535, got '${text}'`);
  return Number(text);
}

export function register(program: Command): void {
  program
    .command('play')
    .description('Serve the browser playground (Raft, Paxos, Multi-Paxos, 2PC, 3PC, Paxos Commit in the simulator) and print its URL')
    .option('--port <n>', 'port to listen on (0: any free port)', '8370')
    .option('--host <h>', 'address to listen on', '127.0.0.1')
    .option('--dir <path>', 'the built playground (default: web/dist of this checkout)')
    .action(async (flags: { port: string; host: string; dir?: string }) => {
      const dir = flags.dir ?? DEFAULT_PLAYGROUND_DIR;
      if (flags.dir !== undefined && (!existsSync(dir) || !statSync(dir).isDirectory())) throw new UsageError(`--dir ${dir} is not a folder`);
      const p = await servePlayground({ dir, port: parsePort(flags.port), host: flags.host });
      process.stdout.write(`synod playground: ${p.url}\n(Ctrl-C to stop)\n`);
    });
}
