// The API's listening socket. It is bound at start, so the port and URL are
// known at once, but the fastify app behind it (the heaviest part of a cold
// start: fastify alone takes ~150 ms to import) is built on the first request
// or when asked for. A test that only needs DNS never pays for it.

import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { ApiApp, ApiOptions } from './app.js';
import { answerClientError } from './client-error.js';
import { descriptorReserve } from '../dns/transport.js';

/**
 * Connections the API holds at once: half of what DNS TCP leaves for the API,
 * UDP and files (128 under a 1024 limit), at least 16. At the cap a new
 * connection closes the least recently used one that is not in a request (idle
 * keep-alive, or headers still arriving), or is refused if every one is busy, so
 * one client holding half-sent requests cannot use up the process's descriptors.
 */
export function defaultMaxApiConnections(): number {
  return Math.max(16, Math.floor(descriptorReserve() / 2));
}
/** A request's headers must arrive within this (Node's default is 60 s): a drip of bytes cannot hold a connection. */
const HEADERS_TIMEOUT_MS = 10_000;

export class ApiServer {
  readonly server: Server;
  private app: Promise<ApiApp> | undefined;
  private loaded: ApiApp | undefined;
  private readonly sockets = new Set<Socket>();
  /** Sockets not in a request, least recently used first (a Map keeps insertion order). */
  private readonly spare = new Map<Socket, true>();
  private readonly busy = new Map<Socket, number>();
  readonly maxConnections = defaultMaxApiConnections();
  private closed = false;

  /** node:https (and with it tls) is loaded only for an HTTPS API. */
  static async create(options: ApiOptions): Promise<ApiServer> {
    const https = options.https ? await import('node:https') : undefined;
    return new ApiServer(options, https && options.https ? (handler) => https.createServer({ cert: options.https!.cert, key: options.https!.key }, handler) : undefined);
  }

  private constructor(
    private readonly options: ApiOptions,
    createSecure?: (handler: (request: IncomingMessage, response: ServerResponse) => void) => Server,
  ) {
    const handler = (request: IncomingMessage, response: ServerResponse): void => this.handle(request, response);
    this.server = createSecure ? createSecure(handler) : createHttpServer(handler);
    this.server.on('clientError', answerClientError);
    this.server.headersTimeout = HEADERS_TIMEOUT_MS;
    this.server.requestTimeout = 60_000;
    // Every connection is closed on close(), keep-alive ones and watches included.
    this.server.on('connection', (socket: Socket) => {
      if (this.sockets.size >= this.maxConnections) {
        const oldest = this.spare.keys().next();
        if (oldest.done) return void socket.destroy();
        oldest.value.destroy();
        this.spare.delete(oldest.value);
        this.sockets.delete(oldest.value);
      }
      this.sockets.add(socket);
      this.spare.set(socket, true);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.spare.delete(socket);
        this.busy.delete(socket);
      });
    });
    // A request in flight (a watch included) keeps its connection; when it is answered the connection is spare again.
    this.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      // Over HTTPS the request's socket is the TLS socket; the one counted is the TCP socket under it
      // (node's TLSSocket keeps it as _parent). Either way, an untracked socket is simply not counted busy.
      const socket = (request.socket as Socket & { _parent?: Socket })._parent ?? request.socket;
      if (!this.sockets.has(socket)) return;
      this.spare.delete(socket);
      this.busy.set(socket, (this.busy.get(socket) ?? 0) + 1);
      response.once('close', () => {
        const left = (this.busy.get(socket) ?? 1) - 1;
        if (left > 0) return void this.busy.set(socket, left);
        this.busy.delete(socket);
        if (this.sockets.has(socket) && !socket.destroyed) this.spare.set(socket, true);
      });
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => reject(error);
      this.server.once('error', failed);
      this.server.listen({ host, port }, () => {
        this.server.off('error', failed);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** The app, built once (fastify, routes, watch hub). */
  load(): Promise<ApiApp> {
    this.app ??= import('./app.js').then(async ({ buildApiApp }) => {
      // The socket is ours: the app only routes what arrives on it.
      const { https: _https, ...rest } = this.options;
      const app = buildApiApp({ ...rest, secure: _https !== undefined });
      await app.app.ready();
      this.loaded = app;
      return app;
    });
    return this.app;
  }

  get openWatches(): number {
    return this.loaded?.watches.openStreams ?? 0;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    if (this.loaded) return void this.loaded.app.routing(request, response);
    this.load().then(
      (app) => (this.closed ? response.destroy() : app.app.routing(request, response)),
      (error: unknown) => {
        response.statusCode = 500;
        response.setHeader('Content-Type', 'application/json');
        response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the API could not start: ${String(error)}`, reason: 'InternalError', code: 500 }));
      },
    );
  }

  /** Ends every watch with its final chunk, then closes the socket and every connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.app) await (await this.app.catch(() => undefined))?.app.close();
    await new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}
