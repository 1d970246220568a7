// Who may talk to the API, and which query values it reads. The API listens on
// loopback, so the one client it must keep out is a web page in the user's own
// browser: by a cross-site request (refused by Origin / Sec-Fetch-Site) or by
// DNS rebinding (a page's own name re-pointed at 127.0.0.1, refused by Host).
// kubectl and the client libraries send Host as the server URL's host and no
// Origin, so they pass.

import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { ApiError } from './status.js';

/** The host part of a Host header ("[::1]:8053" → "::1"), lower-cased; undefined if it is not one. */
export function hostName(header: string): string | undefined {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^\s:[\]/@]+))(?::(\d{1,5}))?$/i.exec(header.trim());
  if (!match) return undefined;
  const bracketed = match[1];
  if (bracketed !== undefined) return isIP(bracketed) === 6 ? bracketed.toLowerCase() : undefined;
  return match[2]!.toLowerCase();
}

function isLoopbackName(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export class HostPolicy {
  private readonly names: ReadonlySet<string>;
  /** Bound to every interface: any address of the machine may be in Host, and an address literal cannot be rebound. */
  private readonly anyAddress: boolean;

  /** `allowed`: names and addresses besides loopback that reach this server (the bound --host address, configured names). */
  constructor(allowed: readonly string[] = []) {
    const names = allowed.map((name) => name.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase()).filter(Boolean);
    this.anyAddress = names.includes('0.0.0.0') || names.includes('::');
    this.names = new Set(names);
  }

  /** Whether a Host header names this server. A missing one (HTTP/1.0) is not a browser's: it passes. */
  allows(header: string | undefined): boolean {
    if (header === undefined) return true;
    const host = hostName(header);
    if (host === undefined) return false;
    return isLoopbackName(host) || this.names.has(host) || (this.anyAddress && isIP(host) !== 0);
  }
}

/**
 * Why a request is a browser's from another site, or undefined if it is not.
 * A page's own requests (same origin: this scheme, Host and port) pass, so the
 * page this app serves (/ui) can use it; `secure` says the server is HTTPS.
 */
export function crossSiteReason(headers: { origin?: string | undefined; host?: string | undefined; 'sec-fetch-site'?: string | string[] | undefined }, secure = false): string | undefined {
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return `a ${site} browser request`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  if (headers.host === undefined) return `a request from origin ${JSON.stringify(origin)}`;
  let own: string;
  let theirs: string;
  try {
    own = new URL(`${secure ? 'https' : 'http'}://${headers.host}`).origin;
    theirs = new URL(origin).origin;
  } catch {
    return `a request from origin ${JSON.stringify(origin)}`;
  }
  // "null" (sandboxed frames, file: pages) parses to the opaque origin "null" and never equals ours.
  return theirs === own ? undefined : `a request from origin ${JSON.stringify(origin)}`;
}

/** Compares a presented Authorization header with the expected one in constant time; hashing first hides the length. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(presented ?? ''));
}

/**
 * A resourceVersion query parameter: plain decimal digits, as the API server's
 * strconv.ParseUint(rv, 10, 64) reads it; "0x10", "1e3", "+7" or " 7" are not 16,
 * 1000 or 7 but an error. Empty means "any" (undefined).
 */
export function resourceVersionParam(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    const message = `Invalid value: ${JSON.stringify(value)}: must be a non-negative decimal integer`;
    throw ApiError.of('BadRequest', `resourceVersion: ${message}`, { causes: [{ reason: 'FieldValueInvalid', field: 'resourceVersion', message }] });
  }
  return value;
}

/** A non-negative whole-number query parameter such as timeoutSeconds; undefined when absent. */
export function countParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw ApiError.of('BadRequest', `${name}: Invalid value: ${JSON.stringify(value)}: must be a non-negative integer`);
  }
  return Number(value);
}
