// The API's listening socket. It is bound at start, so the port and URL are
// known at once, but the fastify app behind it (the heaviest part of a cold
// start: fastify alone takes ~150 ms to import) is built on the first request
// or when asked for. A test that only needs DNS never pays for it.

import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { ApiApp, ApiOptions } from './app.js';
import { answerClientError } from './client-error.js';

export class ApiServer {
  readonly server: Server;
  private app: Promise<ApiApp> | undefined;
  private loaded: ApiApp | undefined;
  private readonly sockets = new Set<Socket>();
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
    // Every connection is closed on close(), keep-alive ones and watches included.
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
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
      const app = buildApiApp(rest);
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
