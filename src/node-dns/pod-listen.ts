// In a pod, `server.listen(8080)` binds the pod's own network namespace, so
// every member of a StatefulSet listens on the same port. Here the members
// share the machine: a listen on every address (no host, 0.0.0.0 or ::) is
// moved to the pod's IP (HEADLESS_DNS_POD_IP, a loopback address of its own),
// and each member gets its port on its own address, as in a cluster. Listens
// on a named address, a Unix socket or a handle are left alone.

import { Server } from 'node:net';
import os from 'node:os';

const ANY = new Set(['0.0.0.0', '::', '']);

type ListenArgs = unknown[];

/**
 * The listen arguments with a port and no specific address bound to `ip`;
 * others as given. `ports` moves a port elsewhere too (members sharing
 * 127.0.0.1, each on ports of its own: HEADLESS_DNS_PORTS).
 */
export function onPodIp(args: ListenArgs, ip: string, ports?: ReadonlyMap<number, number>): ListenArgs {
  if (!ports?.size) return onIp(args, ip);
  const moved = onIp(args, ip);
  const [first] = moved;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const to = ports.get(Number(first));
    return to === undefined ? moved : [to, ...moved.slice(1)];
  }
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    const options = first as { port?: unknown };
    const to = options.port === undefined ? undefined : ports.get(Number(options.port));
    return to === undefined ? moved : [{ ...options, port: to }, ...moved.slice(1)];
  }
  return moved;
}

function onIp(args: ListenArgs, ip: string): ListenArgs {
  const [first, second] = args;
  if (first === undefined || typeof first === 'function') return [0, ip, ...args];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof second === 'string') return ANY.has(second) ? [first, ip, ...args.slice(2)] : args;
    if (second === null || second === undefined) return [first, ip, ...args.slice(2)];
    // listen(port, backlog, cb) or listen(port, cb)
    return [first, ip, ...args.slice(1)];
  }
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    const options = first as { port?: unknown; host?: unknown; path?: unknown; fd?: unknown; handle?: unknown; _handle?: unknown };
    const byPort = options.path === undefined && options.fd === undefined && options.handle === undefined && options._handle === undefined;
    if (byPort && (options.host === undefined || (typeof options.host === 'string' && ANY.has(options.host)))) return [{ ...options, host: ip }, ...args.slice(1)];
  }
  return args;
}

/** Makes every net.Server (http, https, express, fastify...) listen on the pod's IP by default. */
export function listenOnPodIp(ip: string, ports?: ReadonlyMap<number, number>): void {
  const original = Server.prototype.listen;
  const patched = function (this: Server, ...args: ListenArgs): Server {
    return (original as (...a: ListenArgs) => Server).apply(this, onPodIp(args, ip, ports));
  };
  Server.prototype.listen = patched as typeof Server.prototype.listen;
}

/** In a pod, os.hostname() is the pod's hostname (`kubia-0`), which apps print and compare; here it is the machine's. */
export function hostnameOfPod(hostname: string): void {
  (os as { hostname: () => string }).hostname = () => hostname;
}
