// The HTTP parser's refusals (header overflow, malformed requests) come before
// there is a request to reply to: a Status is written on the socket, as every
// other answer. Its own module, so the listening socket can have it before the
// API app behind it is loaded.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError, toStatus } from './status.js';

export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const reason = code === 431 ? 'RequestHeaderFieldsTooLarge' : code === 408 ? 'Timeout' : 'BadRequest';
  const message = code === 431 ? 'Request Header Fields Too Large' : code === 408 ? 'Request Timeout' : `the request could not be parsed: ${error.message}`;
  const body = JSON.stringify(toStatus(new ApiError(code, reason, message)));
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  // Closing at once, with the rest of a large request unread, would reset the
  // connection and lose the answer; keep reading (and dropping) for a moment.
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
}
