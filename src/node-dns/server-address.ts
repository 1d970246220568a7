// The address of a headless-dns DNS server as people write it in an
// environment variable (HEADLESS_DNS): what Resolver#setServers takes is only
// an IP address with an optional port, and it throws a bare
// ERR_INVALID_IP_ADDRESS at anything else, naming neither the variable nor
// what would have worked.

import { HeadlessDnsError } from '../errors.js';
import { ipFamily } from '../model/ip.js';

/** The port `headless-dns serve` answers on unless told otherwise. */
export const DEFAULT_DNS_PORT = 1053;

/**
 * `HOST:PORT`, `[IPV6]:PORT`, a bare `HOST` (port 1053) or a bare IPv6
 * address, where HOST is an IP address or `localhost` (127.0.0.1: what serve
 * binds by default; resolving it through the OS could give ::1, where nothing
 * listens). Returns `host:port` or `[host]:port`, as setServers takes it.
 * `what` names the setting in messages: `HEADLESS_DNS="..."`.
 */
export function parseDnsServer(text: string, what: string): string {
  const fail = (why: string): never => {
    throw new HeadlessDnsError('INVALID_OPTION', `${what}="${text}": ${why}; write HOST:PORT, e.g. 127.0.0.1:1053, localhost:5353 or [::1]:1053`);
  };
  const value = text.trim();
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if (value.split(':').length > 2) {
    host = value; // a bare IPv6 address: its colons are not a port separator
  } else {
    const colon = value.indexOf(':');
    host = colon === -1 ? value : value.slice(0, colon);
    portText = colon === -1 ? undefined : value.slice(colon + 1);
  }
  if (host === '') fail('no host');
  if (host.toLowerCase() === 'localhost') host = '127.0.0.1';
  const family = ipFamily(host);
  if (!family) fail(`"${host}" is not an IP address or localhost`);
  if (bracketed && family !== 6) fail(`"${host}" in brackets is not an IPv6 address`);
  let port = DEFAULT_DNS_PORT;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    // Port 0 is where nobody answers: a server that picked a free port printed the real one.
    if (!(port >= 1 && port <= 65535)) fail(`port "${portText}" is not a number from 1 to 65535`);
  }
  return family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
