// HTTPS for the API. kubectl (client-go) sends a bearer token only over TLS, so
// a token over plain HTTP can never authenticate kubectl: with a token, or bound
// beyond loopback, the API serves HTTPS with a certificate from a CA made here.
//
// A CA (self-signed, 10 years) and a serving certificate (1 year) signed by it,
// with subjectAltNames for every address the API answers on. With --state FILE
// they are kept in FILE.tls/ and reused at the next start while valid, so a
// kubeconfig written once keeps verifying; the serving certificate alone is
// reissued (same CA) when the addresses change.
//
// Certificates are built with node-forge (pure JavaScript, no dependencies, no
// global polyfills), loaded only when one must be made: a cold start without
// TLS, or with certificates to reuse, never loads it. Keys are made and
// signatures computed by node:crypto (OpenSSL): forge's own RSA is pure
// JavaScript and takes hundreds of milliseconds per key. forge builds RSA
// certificates only, so both keys are RSA 2048, as kubeadm's are.

import { type KeyObject, X509Certificate, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from './atomic-write.js';

const generateRsa = promisify(generateKeyPair);

const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const SERVING_DAYS = 365;
/** Reissue what expires sooner than this, so a running server does not outlive its certificate by much. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

export interface ApiTls {
  /** The CA certificate (PEM): what clients trust (`certificate-authority-data` in the kubeconfig). */
  readonly ca: string;
  /** The serving certificate (PEM), then the CA: the chain the server presents. */
  readonly cert: string;
  /** The serving certificate's private key (PKCS#8 PEM). */
  readonly key: string;
  /** Addresses and names the serving certificate is valid for. */
  readonly names: readonly string[];
  /** Where the files are kept (`<state>.tls`), if anywhere. */
  readonly dir?: string;
  /** What was done at this start. */
  readonly origin: 'generated' | 'reused' | 'reissued';
}

/** The subjectAltNames the serving certificate needs for an API bound to `host`. */
export function servingNames(host: string): string[] {
  const names = new Set<string>(['127.0.0.1', '::1', 'localhost']);
  if (host === '0.0.0.0' || host === '::') {
    // A wildcard bind answers on every interface: each address is one a client may dial.
    for (const list of Object.values(networkInterfaces())) {
      for (const entry of list ?? []) {
        // Link-local addresses need a zone (%eth0) to be dialled, and no certificate can name that.
        if (entry.family === 'IPv6' && /^fe[89ab]/i.test(entry.address)) continue;
        if (host === '0.0.0.0' && entry.family !== 'IPv4') continue;
        names.add(entry.address);
      }
    }
  } else {
    names.add(host);
  }
  const machine = hostname().toLowerCase();
  // Only a name a certificate can carry (RFC 5280 dNSName: LDH labels).
  if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(machine) && machine.length <= 253) names.add(machine);
  return [...names].map(canonicalName);
}

/** One spelling per address (`::1`, not `0:0:0:0:0:0:0:1` as OpenSSL prints it), so sets compare. */
function canonicalName(name: string): string {
  if (isIP(name) === 6) return new URL(`http://[${name}]/`).hostname.slice(1, -1);
  return name.toLowerCase();
}

function sanNames(certificate: X509Certificate): Set<string> {
  const names = new Set<string>();
  for (const part of (certificate.subjectAltName ?? '').split(', ')) {
    const match = /^(DNS|IP Address):(.+)$/.exec(part);
    if (match) names.add(canonicalName(match[2]!));
  }
  return names;
}

function validFor(certificate: X509Certificate, now: number): boolean {
  return Date.parse(certificate.validFrom) <= now && Date.parse(certificate.validTo) - RENEW_BEFORE_MS > now;
}

interface Pair {
  certificate: X509Certificate;
  pem: string;
  key: KeyObject;
  keyPem: string;
}

function readPair(dir: string, certFile: string, keyFile: string): Pair | undefined {
  try {
    const pem = readFileSync(join(dir, certFile), 'utf8');
    const keyPem = readFileSync(join(dir, keyFile), 'utf8');
    const certificate = new X509Certificate(pem);
    const key = createPrivateKey(keyPem);
    return certificate.checkPrivateKey(key) ? { certificate, pem, key, keyPem } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CA and serving certificate for an API bound to `host`: read from `dir`
 * when they are there, valid for another 30 days and (the serving one) name
 * every address; otherwise made, and written to `dir` if given.
 */
export async function apiTls(options: { host: string; dir?: string; log?: (message: string) => void }): Promise<ApiTls> {
  const names = servingNames(options.host);
  const now = Date.now();
  const { dir } = options;
  let ca = dir ? readPair(dir, 'ca.crt', 'ca.key') : undefined;
  if (ca && !(ca.certificate.ca && validFor(ca.certificate, now) && ca.certificate.verify(ca.certificate.publicKey))) ca = undefined;
  let serving = ca && dir ? readPair(dir, 'server.crt', 'server.key') : undefined;
  if (serving && ca) {
    const has = sanNames(serving.certificate);
    const fits = validFor(serving.certificate, now) && serving.certificate.checkIssued(ca.certificate) && serving.certificate.verify(ca.certificate.publicKey) && names.every((name) => has.has(name));
    if (!fits) serving = undefined;
  }
  if (ca && serving) return { ca: ca.pem, cert: serving.pem + ca.pem, key: serving.keyPem, names, ...(dir ? { dir } : {}), origin: 'reused' };

  // Both keys at once: RSA key generation runs on libuv's thread pool.
  const servingKeys = generateRsa('rsa', { modulusLength: 2048 });
  const caKeys = ca ? undefined : generateRsa('rsa', { modulusLength: 2048 });
  const forge = (await import('node-forge')).default;
  const origin = ca ? 'reissued' : 'generated';
  if (!ca) {
    const keys = await caKeys!;
    const pem = issue(forge, {
      subject: 'headless-dns-ca',
      publicKey: keys.publicKey,
      days: CA_DAYS,
      signer: { key: keys.privateKey, publicKey: keys.publicKey },
      extensions: [
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
        { name: 'subjectKeyIdentifier' },
      ],
    });
    ca = { certificate: new X509Certificate(pem), pem, key: keys.privateKey, keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }
  const keys = await servingKeys;
  const caForge = forge.pki.certificateFromPem(ca.pem);
  const pem = issue(forge, {
    subject: 'headless-dns',
    publicKey: keys.publicKey,
    days: SERVING_DAYS,
    signer: { key: ca.key, publicKey: createPublicKey(ca.key), subject: caForge.subject.attributes },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })) },
      { name: 'subjectKeyIdentifier' },
      // OpenSSL 3's strict verification (Python 3.13's default) wants the issuer's key named.
      { name: 'authorityKeyIdentifier', keyIdentifier: caForge.generateSubjectKeyIdentifier().getBytes() },
    ],
  });
  const servingPem = pem;
  const keyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  if (dir) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (origin === 'generated') {
      writeFileAtomic(join(dir, 'ca.key'), ca.keyPem, 0o600);
      writeFileAtomic(join(dir, 'ca.crt'), ca.pem, 0o644);
    }
    writeFileAtomic(join(dir, 'server.key'), keyPem, 0o600);
    writeFileAtomic(join(dir, 'server.crt'), servingPem, 0o644);
  }
  return { ca: ca.pem, cert: servingPem + ca.pem, key: keyPem, names, ...(dir ? { dir } : {}), origin };
}

type Forge = typeof import('node-forge');

interface IssueRequest {
  subject: string;
  publicKey: KeyObject;
  days: number;
  /** The issuer's key; `subject` absent: self-signed. */
  signer: { key: KeyObject; publicKey: KeyObject; subject?: ReturnType<Forge['pki']['createCertificate']>['subject']['attributes'] };
  extensions: object[];
}

function issue(forge: Forge, request: IssueRequest): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(request.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // 128 random bits, top bit clear so the DER INTEGER stays positive (RFC 5280 §4.1.2.2).
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  cert.serialNumber = serial.toString('hex');
  // An hour back: a client whose clock is a little behind still accepts it.
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + request.days * DAY_MS);
  const subject = [{ name: 'commonName', value: request.subject }, { name: 'organizationName', value: 'headless-dns' }];
  cert.setSubject(subject);
  cert.setIssuer(request.signer.subject ?? subject);
  cert.setExtensions(request.extensions);
  signNatively(cert, request.signer.key);
  const pem = forge.pki.certificateToPem(cert);
  // forge only assembled the bytes; prove OpenSSL reads and verifies them before anyone trusts them.
  if (!new X509Certificate(pem).verify(request.signer.publicKey)) throw new Error(`the certificate made for ${request.subject} does not verify`);
  return pem;
}

/**
 * forge's `cert.sign(key, md)` feeds the DER TBSCertificate to `md.update` and
 * asks `key.sign(md)` for the signature (binary string). Standing in for both
 * hands the bytes to node:crypto, which signs with OpenSSL in microseconds.
 */
function signNatively(cert: ReturnType<Forge['pki']['createCertificate']>, key: KeyObject): void {
  const chunks: Buffer[] = [];
  const md = {
    algorithm: 'sha256',
    update(bytes: string) {
      chunks.push(Buffer.from(bytes, 'binary'));
      return md;
    },
  };
  const signer = { sign: () => sign('sha256', Buffer.concat(chunks), key).toString('binary') };
  cert.sign(signer as never, md as never);
}

/** A bearer token for an API whose user gave none: 256 random bits, URL-safe. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The token kept in `dir` from an earlier start (so a kubeconfig written then still works), or a new one kept there. */
export function keptToken(dir: string): { token: string; reused: boolean } {
  const file = join(dir, 'token');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (/^[\x21-\x7e]{16,}$/.test(token)) return { token, reused: true };
  } catch {
    /* none yet */
  }
  const token = generateToken();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${token}\n`, 0o600);
  return { token, reused: false };
}
