// Every language through the OS resolver (issue 15 item 4). In a network and
// mount namespace made for this test, headless-dns listens on port 53 of a
// loopback address and the namespace's /etc/resolv.conf points at it with a
// pod's search list, as a pod's does. glibc (getent), Python, Java, Go (pure
// and cgo resolvers) and curl then resolve a member, the headless Service,
// a short name, a missing member, with no AAAA wait for an IPv4-only name.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../support/serve.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { cannotIsolate, has } from '../support/netns.js';

const reason = cannotIsolate(['--net', '--mount']);
if (reason) console.warn(`os-resolver: skipped: ${reason}`);

const ADDRESS = '127.0.0.10';
let dir: string;
let results: Record<string, string>;

/** The clients, each printing `key=value` lines. */
const CLIENTS = {
  python: `import socket, sys
for name in sys.argv[1:]:
    try:
        print(name + '=' + ','.join(sorted({a[4][0] for a in socket.getaddrinfo(name, None, socket.AF_INET)})))
    except socket.gaierror as e:
        print(name + '=ERR ' + str(e.errno))`,
  java: `import java.net.*;
import java.util.*;
public class Lookup {
  public static void main(String[] args) {
    for (String name : args) {
      try {
        TreeSet<String> out = new TreeSet<>();
        for (InetAddress a : InetAddress.getAllByName(name)) out.add(a.getHostAddress());
        System.out.println(name + "=" + String.join(",", out));
      } catch (UnknownHostException e) {
        System.out.println(name + "=ERR unknown");
      }
    }
  }
}`,
  go: `package main

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
)

func main() {
	for _, name := range os.Args[1:] {
		addrs, err := net.LookupHost(name)
		if err != nil {
			fmt.Printf("%s=ERR %v\\n", name, err.(*net.DNSError).IsNotFound)
			continue
		}
		sort.Strings(addrs)
		fmt.Printf("%s=%s\\n", name, strings.Join(addrs, ","))
	}
}`,
};

const NAMES = ['kubia-0.kubia.default.svc.cluster.local', 'kubia.default.svc.cluster.local', 'kubia-1.kubia', 'kubia-9.kubia.default.svc.cluster.local'];

beforeAll(() => {
  if (reason) return;
  dir = mkdtempSync(join(tmpdir(), 'hdns-os-'));
  writeFileSync(join(dir, 'resolv.conf'), `nameserver ${ADDRESS}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:2 attempts:1\n`);
  writeFileSync(join(dir, 'lookup.py'), CLIENTS.python);
  writeFileSync(join(dir, 'Lookup.java'), CLIENTS.java);
  writeFileSync(join(dir, 'lookup.go'), CLIENTS.go);
  const names = NAMES.join(' ');
  const hasGo = has('go');
  const hasJava = has('java');
  // One shell in the namespace: loopback up, the pod's resolv.conf over the
  // machine's, headless-dns on port 53, then each client in turn.
  const script = `
set -u
ip link set lo up
# A pod has an address of its own: without one besides loopback, getaddrinfo's
# AI_ADDRCONFIG (getent, Java) finds no IPv4 to use and returns nothing.
ip addr add 10.244.0.5/32 dev lo
mount --bind ${dir}/resolv.conf /etc/resolv.conf
"${process.execPath}" "${BIN}" serve -f "${KUBIA_EXAMPLE}" --host ${ADDRESS} --dns-port 53 --api-port 0 > ${dir}/serve.out 2> ${dir}/serve.err &
SERVE=$!
for i in $(seq 1 100); do grep -q '^ready' ${dir}/serve.out 2>/dev/null && break; sleep 0.05; done
for name in ${names}; do
  out=$(getent ahostsv4 "$name" | awk '{print $1}' | sort -u | paste -sd, -)
  [ -n "$out" ] && echo "getent:$name=$out" || echo "getent:$name=ERR"
done
start=$(date +%s%N); getent ahosts kubia-0.kubia.default.svc.cluster.local > /dev/null; end=$(date +%s%N)
echo "getent-both-families-ms=$(( (end - start) / 1000000 ))"
python3 ${dir}/lookup.py ${names} | sed 's/^/python:/'
${hasJava ? `java ${dir}/Lookup.java ${names} 2>&1 | sed 's/^/java:/'` : 'echo "java:missing=1"'}
${hasGo ? `cd ${dir} && export HOME=${dir} GOCACHE=${dir}/gocache GOPATH=${dir}/gopath GOFLAGS=-mod=mod && go build -o lookup-go lookup.go 2>&1 | sed 's/^/go-build:/'
GODEBUG=netdns=go ./lookup-go ${names} | sed 's/^/gopure:/'
GODEBUG=netdns=cgo ./lookup-go ${names} | sed 's/^/gocgo:/'` : 'echo "gopure:missing=1"'}
curl -sS -o /dev/null --connect-timeout 2 http://kubia-0.kubia.default.svc.cluster.local:1/ 2>/dev/null; echo "curl:member=$?"
curl -sS -o /dev/null --connect-timeout 2 http://kubia-9.kubia.default.svc.cluster.local:1/ 2>/dev/null; echo "curl:missing=$?"
# Short names with no search list in resolv.conf, only the environment members get (LOCALDOMAIN, RES_OPTIONS):
printf 'nameserver ${ADDRESS}\noptions timeout:2 attempts:1\n' > ${dir}/nosearch.conf
mount --bind ${dir}/nosearch.conf /etc/resolv.conf
export LOCALDOMAIN='default.svc.cluster.local svc.cluster.local cluster.local' RES_OPTIONS='ndots:5'
out=$(getent ahostsv4 kubia-1.kubia | awk '{print $1}' | sort -u | paste -sd, -); echo "env-getent:kubia-1.kubia=\${out:-ERR}"
python3 ${dir}/lookup.py kubia-1.kubia | sed 's/^/env-python:/'
${hasJava ? `java ${dir}/Lookup.java kubia-1.kubia 2>&1 | sed 's/^/env-java:/'` : 'echo "env-java:missing=1"'}
${hasGo ? `GODEBUG=netdns=go ${dir}/lookup-go kubia-1.kubia | sed 's/^/env-gopure:/'
GODEBUG=netdns=cgo ${dir}/lookup-go kubia-1.kubia | sed 's/^/env-gocgo:/'` : 'echo "env-gopure:missing=1"'}
unset LOCALDOMAIN RES_OPTIONS
mount --bind ${dir}/resolv.conf /etc/resolv.conf
# doctor: with the pod's resolv.conf it works; pointed elsewhere, it says so and how to fix it.
"${process.execPath}" "${BIN}" doctor --dns ${ADDRESS}:53 > ${dir}/doctor-ok.out 2>&1; echo "doctor:ok=$?"
"${process.execPath}" "${BIN}" setup-dns --dns ${ADDRESS}:53 > ${dir}/setup-ok.out 2>&1; echo "setup:ok=$?"
printf 'nameserver 127.0.0.11\noptions timeout:1 attempts:1\n' > ${dir}/broken.conf
mount --bind ${dir}/broken.conf /etc/resolv.conf
"${process.execPath}" "${BIN}" doctor --dns ${ADDRESS}:53 > ${dir}/doctor-broken.out 2>&1; echo "doctor:broken=$?"
"${process.execPath}" "${BIN}" setup-dns --dns ${ADDRESS}:53 --yes > ${dir}/setup-broken.out 2>&1; echo "setup:broken=$?"
kill $SERVE
wait $SERVE 2>/dev/null
"${process.execPath}" "${BIN}" doctor --dns ${ADDRESS}:53 > ${dir}/doctor-down.out 2>&1; echo "doctor:down=$?"
`;
  const output = execFileSync('unshare', ['--net', '--mount', 'sh', '-c', script], { timeout: 170_000 }).toString();
  results = Object.fromEntries(
    output
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}, 180_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(reason !== undefined)('the OS resolver in a pod-like namespace', () => {
  const members = (): string => results['getent:kubia-0.kubia.default.svc.cluster.local']!;
  it('headless-dns answered on port 53 of a loopback address', () => {
    expect(members()).toMatch(/^127\.10\.0\.\d+$/);
  });

  it.each(['getent', 'python', 'java', 'gopure', 'gocgo'])('%s: a member, the headless Service, a short name, a missing member', (client) => {
    if (results[`${client}:missing`] === '1') return void console.warn(`os-resolver: ${client} is not installed`);
    const member = results['getent:kubia-0.kubia.default.svc.cluster.local']!;
    const all = results['getent:kubia.default.svc.cluster.local']!;
    expect(all.split(',')).toHaveLength(2);
    expect(results[`${client}:kubia-0.kubia.default.svc.cluster.local`]).toBe(member);
    expect(results[`${client}:kubia.default.svc.cluster.local`]).toBe(all);
    expect(results[`${client}:kubia-1.kubia`]).toMatch(/^127\.10\.0\.\d+$/);
    expect(results[`${client}:kubia-1.kubia`]).not.toBe(member);
    expect(results[`${client}:kubia-9.kubia.default.svc.cluster.local`]).toMatch(/^ERR/);
  });

  it('short names from LOCALDOMAIN/RES_OPTIONS alone (what members get): glibc and what uses it; not Go\'s pure resolver', () => {
    const kubia1 = results['gopure:kubia-1.kubia']!;
    for (const client of ['env-getent', 'env-python', 'env-java', 'env-gocgo']) {
      if (results[`${client}:missing`] === '1') continue;
      expect(results[`${client}:kubia-1.kubia`], client).toBe(kubia1);
    }
    if (results['env-gopure:missing'] !== '1') expect(results['env-gopure:kubia-1.kubia']).toMatch(/^ERR/);
  });

  it('no AAAA wait for an IPv4-only name (getent ahosts asks both families)', () => {
    expect(Number(results['getent-both-families-ms'])).toBeLessThan(1000);
  });

  it('doctor: exit 0 when the OS path works; 1 with the fix when it does not, or when the server is down', () => {
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
    expect(results['doctor:ok']).toBe('0');
    expect(read('doctor-ok.out')).toMatch(/^ok   headless-dns at 127\.0\.0\.10:53 answers for cluster\.local$/m);
    expect(read('doctor-ok.out')).toMatch(/^ok   the operating system's resolver reaches headless-dns: ns\.dns\.cluster\.local is 127\.0\.0\.10$/m);
    expect(results['doctor:broken']).toBe('1');
    expect(read('doctor-broken.out')).toContain("FAIL the operating system's resolver does not reach headless-dns for cluster.local");
    expect(read('doctor-broken.out')).toContain('this machine resolves names with: resolv.conf (nameservers: 127.0.0.11)');
    expect(read('doctor-broken.out')).toContain('sudo headless-dns serve --host 127.0.0.10 --dns-port 53 --upstream 127.0.0.11:53');
    expect(results['doctor:down']).toBe('1');
    expect(read('doctor-down.out')).toMatch(/^FAIL headless-dns at 127\.0\.0\.10:53: no answer/m);
  });

  it('setup-dns: where resolv.conf already names headless-dns first, it checks; where only a plain resolv.conf decides, it says what to do and changes nothing', () => {
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
    expect(results['setup:ok']).toBe('0');
    expect(read('setup-ok.out')).toContain('setup-dns: 127.0.0.10 is already the first nameserver of /etc/resolv.conf');
    expect(results['setup:broken']).toBe('1');
    expect(read('setup-broken.out')).toContain('setup-dns: this machine resolves names with resolv.conf, which cannot route one zone by itself; instead:');
    expect(read('setup-broken.out')).toContain('--upstream 127.0.0.11:53');
  });

  it('curl resolves a member (it then fails to connect: exit 7) and not a missing one (exit 6)', () => {
    expect(results['curl:member']).toBe('7');
    expect(results['curl:missing']).toBe('6');
  });
});
