// Structured logs (pino): JSON lines, or readable lines on a terminal
// (SYNOD_LOG_PRETTY=1, which `synod start` sets when its output is a terminal).
import pino, { type Logger } from 'pino';

export function createLogger(name: string): Logger {
  const level = process.env['SYNOD_LOG_LEVEL'] ?? 'info';
  const pretty = process.env['SYNOD_LOG_PRETTY'] === '1' || (process.env['SYNOD_LOG_PRETTY'] === undefined && process.stderr.isTTY);
  if (pretty) {
    return pino({ name, level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,name', destination: 2 } } });
  }
  return pino({ name, level }, pino.destination(2));
}
