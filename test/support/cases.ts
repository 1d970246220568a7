// The DNS case table, written against test/fixtures/cluster.yaml with the
// kubeadm profile (ttl 30, pods insecure, reverse zones owned, no upstream)
// and a server on 127.0.0.1. Each row names the rule of
// cluster-dns-semantics.md it checks. The same rows run against answer() (unit)
// and against the real server over UDP, TCP and dig (integration).

export interface DnsCase {
  qname: string;
  qtype: string;
  rcode: 'NOERROR' | 'NXDOMAIN' | 'REFUSED';
  answer?: string[];
  authority?: string[];
  additional?: string[];
  rule: string;
}

const Z = 'cluster.local.';
export const SOA = `${Z} 30 IN SOA ns.dns.${Z} hostmaster.${Z} 0 7200 1800 86400 30`;
const SOA_V4 = 'in-addr.arpa. 30 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 0 7200 1800 86400 30';

const nodata = (qname: string, qtype: string, rule: string): DnsCase => ({ qname, qtype, rcode: 'NOERROR', authority: [SOA], rule });
const nx = (qname: string, qtype: string, rule: string): DnsCase => ({ qname, qtype, rcode: 'NXDOMAIN', authority: [SOA], rule });

const svc1 = `svc1.testns.svc.${Z}`;
const hdls1 = `hdls1.testns.svc.${Z}`;
const kubia = `kubia.default.svc.${Z}`;

export const CASES: DnsCase[] = [
  // §4.1 ClusterIP services
  { qname: svc1, qtype: 'A', rcode: 'NOERROR', answer: [`${svc1} 30 IN A 10.0.0.1`], rule: '4.1 cluster IP' },
  nodata(svc1, 'AAAA', '4.1 other family is NODATA'),
  { qname: svc1, qtype: 'SRV', rcode: 'NOERROR', answer: [`${svc1} 30 IN SRV 0 100 80 ${svc1}`], additional: [`${svc1} 30 IN A 10.0.0.1`], rule: '4.4 bare SRV of a ClusterIP service: service port, glue' },
  { qname: `_http._tcp.${svc1}`, qtype: 'SRV', rcode: 'NOERROR', answer: [`_http._tcp.${svc1} 30 IN SRV 0 100 80 ${svc1}`], additional: [`${svc1} 30 IN A 10.0.0.1`], rule: '4.4 _port._proto SRV' },
  { qname: `_http._tcp.${svc1}`, qtype: 'A', rcode: 'NOERROR', answer: [`_http._tcp.${svc1} 30 IN A 10.0.0.1`], rule: '3 _port._proto names answer A too' },
  { qname: `http.tcp.${svc1}`, qtype: 'SRV', rcode: 'NOERROR', answer: [`http.tcp.${svc1} 30 IN SRV 0 100 80 ${svc1}`], additional: [`${svc1} 30 IN A 10.0.0.1`], rule: '3 two-label form without underscores' },
  nx(`_https._tcp.${svc1}`, 'SRV', '4.4 unknown port name'),
  nx(`_http._udp.${svc1}`, 'SRV', '4.4 protocol must match'),
  nx(`_tcp.${svc1}`, 'SRV', '3 _proto alone is an endpoint name, no empty non-terminal'),
  { qname: svc1, qtype: 'PTR', rcode: 'NOERROR', authority: [SOA], rule: '4.6 PTR of an existing forward name is NODATA' },
  nodata(svc1, 'TXT', '4.9 TXT of a name with records is NODATA'),
  nodata(svc1, 'CNAME', '4.5 CNAME of a non-ExternalName is NODATA'),
  nodata(svc1, 'MX', '5 other types on an existing name'),
  nodata(svc1, 'SOA', '4.10 SOA below the apex is NODATA'),
  nodata(`nope.testns.svc.${Z}`, 'SOA', '4.10 SOA below the apex is NODATA even for missing names'),
  nodata(svc1, 'NS', '4.10 NS below the apex, existing name'),
  nx(`nope.testns.svc.${Z}`, 'NS', '4.10 NS below the apex, missing name'),
  nx(`nope.testns.svc.${Z}`, 'MX', '5 other types on a missing name'),
  { qname: `svc6.testns.svc.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`svc6.testns.svc.${Z} 30 IN AAAA 1234:abcd::1`], rule: '4.1 IPv6 cluster IP' },
  nodata(`svc6.testns.svc.${Z}`, 'A', '4.1 v6-only service has no A'),
  { qname: `svc-dual-stack.testns.svc.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc-dual-stack.testns.svc.${Z} 30 IN A 10.0.0.3`], rule: '4.1 dual stack A' },
  { qname: `svc-dual-stack.testns.svc.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`svc-dual-stack.testns.svc.${Z} 30 IN AAAA 10::3`], rule: '4.1 dual stack AAAA' },
  {
    qname: `svc-dual-stack.testns.svc.${Z}`,
    qtype: 'SRV',
    rcode: 'NOERROR',
    answer: [`svc-dual-stack.testns.svc.${Z} 30 IN SRV 0 50 80 svc-dual-stack.testns.svc.${Z}`],
    additional: [`svc-dual-stack.testns.svc.${Z} 30 IN A 10.0.0.3`, `svc-dual-stack.testns.svc.${Z} 30 IN AAAA 10::3`],
    rule: '4.4 dual stack: N=2, one SRV weight 50, glue of both families',
  },
  { qname: `svc-empty.testns.svc.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc-empty.testns.svc.${Z} 30 IN A 10.0.0.5`], rule: '4.1 ClusterIP without endpoints still resolves' },
  {
    qname: `multiport.testns.svc.${Z}`,
    qtype: 'SRV',
    rcode: 'NOERROR',
    answer: [`multiport.testns.svc.${Z} 30 IN SRV 0 33 80 multiport.testns.svc.${Z}`, `multiport.testns.svc.${Z} 30 IN SRV 0 33 53 multiport.testns.svc.${Z}`],
    additional: [`multiport.testns.svc.${Z} 30 IN A 10.0.0.7`],
    rule: '4.4 N counts before duplicates collapse (3 ports, 53 twice → weight 33)',
  },
  {
    qname: `_dns._udp.multiport.testns.svc.${Z}`,
    qtype: 'SRV',
    rcode: 'NOERROR',
    answer: [`_dns._udp.multiport.testns.svc.${Z} 30 IN SRV 0 100 53 multiport.testns.svc.${Z}`],
    additional: [`multiport.testns.svc.${Z} 30 IN A 10.0.0.7`],
    rule: '4.4 UDP port by name',
  },

  // §4.3 endpoint names
  { qname: `ep1a.${svc1}`, qtype: 'A', rcode: 'NOERROR', answer: [`ep1a.${svc1} 30 IN A 172.0.0.1`], rule: '4.3 endpoint hostname of a ClusterIP service' },
  { qname: `172-0-0-2.${svc1}`, qtype: 'A', rcode: 'NOERROR', answer: [`172-0-0-2.${svc1} 30 IN A 172.0.0.2`], rule: '4.3 dashed-IP name without hostname' },
  nx(`172-0-0-1.${svc1}`, 'A', '4.3 hostname wins over the dashed IP'),
  {
    qname: `ep1a.${svc1}`,
    qtype: 'SRV',
    rcode: 'NOERROR',
    answer: [`ep1a.${svc1} 30 IN SRV 0 100 8080 ep1a.${svc1}`],
    additional: [`ep1a.${svc1} 30 IN A 172.0.0.1`],
    rule: '4.4 endpoint SRV: slice (target) port',
  },
  nodata(`ep1a.${svc1}`, 'AAAA', '4.3 endpoint without an address of that family'),

  // §4.2 headless services
  {
    qname: hdls1,
    qtype: 'A',
    rcode: 'NOERROR',
    answer: ['172.0.0.2', '172.0.0.3', '172.0.0.4', '172.0.0.5'].map((ip) => `${hdls1} 30 IN A ${ip}`),
    rule: '4.2 every ready endpoint address; unready left out',
  },
  {
    qname: hdls1,
    qtype: 'AAAA',
    rcode: 'NOERROR',
    answer: [`${hdls1} 30 IN AAAA 5678:abcd::1`, `${hdls1} 30 IN AAAA 5678:abcd::2`],
    rule: '4.2 IPv6 slices merge in',
  },
  {
    qname: hdls1,
    qtype: 'SRV',
    rcode: 'NOERROR',
    answer: ['172-0-0-2', 'ep3', 'dup-name', '5678-abcd--1', '5678-abcd--2'].map((t) => `${hdls1} 30 IN SRV 0 16 80 ${t}.${hdls1}`),
    additional: [
      `172-0-0-2.${hdls1} 30 IN A 172.0.0.2`,
      `ep3.${hdls1} 30 IN A 172.0.0.3`,
      `dup-name.${hdls1} 30 IN A 172.0.0.4`,
      `dup-name.${hdls1} 30 IN A 172.0.0.5`,
      `5678-abcd--1.${hdls1} 30 IN AAAA 5678:abcd::1`,
      `5678-abcd--2.${hdls1} 30 IN AAAA 5678:abcd::2`,
    ],
    rule: '4.4 headless SRV: N=6 → weight 16, same target+port collapses, glue per address',
  },
  { qname: `dup-name.${hdls1}`, qtype: 'A', rcode: 'NOERROR', answer: [`dup-name.${hdls1} 30 IN A 172.0.0.4`, `dup-name.${hdls1} 30 IN A 172.0.0.5`], rule: '4.3 two endpoints sharing a hostname' },
  { qname: `5678-abcd--1.${hdls1}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`5678-abcd--1.${hdls1} 30 IN AAAA 5678:abcd::1`], rule: '4.3 dashed IPv6 label' },
  nx(`unready.${hdls1}`, 'A', '4.3 not-ready endpoints do not exist'),
  nx(`172-0-0-6.${hdls1}`, 'A', '4.3 not-ready endpoints do not exist (dashed form)'),
  { qname: `hdlsprtls.testns.svc.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`hdlsprtls.testns.svc.${Z} 30 IN A 172.0.0.20`], rule: '4.2 portless headless answers A' },
  nodata(`hdlsprtls.testns.svc.${Z}`, 'SRV', '4.4 portless headless: SRV NODATA'),
  nx(`hdls-empty.testns.svc.${Z}`, 'A', '4.2 headless without endpoints is NXDOMAIN'),
  nx(`hdls-empty.testns.svc.${Z}`, 'SRV', '4.2 ... for every type'),
  nx(`hdls-empty.testns.svc.${Z}`, 'TXT', '4.2 ... for every type'),
  nx(`hdls-unready.testns.svc.${Z}`, 'A', '4.2 only unready endpoints is NXDOMAIN'),
  nx(`a.b.c.${svc1}`, 'A', '3 too many labels'),

  // §10 the kubia StatefulSet
  {
    qname: kubia,
    qtype: 'SRV',
    rcode: 'NOERROR',
    answer: [0, 1, 2].map((i) => `${kubia} 30 IN SRV 0 33 80 kubia-${i}.${kubia}`),
    additional: [0, 1, 2].map((i) => `kubia-${i}.${kubia} 30 IN A 10.1.0.1${i}`),
    rule: '10 kubia SRV',
  },
  {
    qname: `_http._tcp.${kubia}`,
    qtype: 'SRV',
    rcode: 'NOERROR',
    answer: [0, 1, 2].map((i) => `_http._tcp.${kubia} 30 IN SRV 0 33 80 kubia-${i}.${kubia}`),
    additional: [0, 1, 2].map((i) => `kubia-${i}.${kubia} 30 IN A 10.1.0.1${i}`),
    rule: '10 kubia _http._tcp SRV',
  },
  { qname: `kubia-1.${kubia}`, qtype: 'A', rcode: 'NOERROR', answer: [`kubia-1.${kubia} 30 IN A 10.1.0.11`], rule: '10 member A' },
  nx(`kubia-3.${kubia}`, 'A', '10 missing member'),
  nx(`10-1-0-10.${kubia}`, 'A', '10 hostname wins'),

  // §4.5, §4.8 ExternalName
  { qname: `external.testns.svc.${Z}`, qtype: 'CNAME', rcode: 'NOERROR', answer: [`external.testns.svc.${Z} 30 IN CNAME ext.interwebs.test.`], rule: '4.5 ExternalName CNAME' },
  { qname: `external.testns.svc.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`external.testns.svc.${Z} 30 IN CNAME ext.interwebs.test.`], rule: '4.8 outside target, no forwarder: CNAME alone' },
  nodata(`external.testns.svc.${Z}`, 'SRV', '4.8 bare SRV on ExternalName is NODATA'),
  nx(`_http._tcp.external.testns.svc.${Z}`, 'SRV', '4.4 _port._proto on ExternalName is NXDOMAIN'),
  nodata(`external.testns.svc.${Z}`, 'TXT', '4.8 TXT does not follow the CNAME'),
  nx(`x.external.testns.svc.${Z}`, 'A', '4.8 nothing below an ExternalName'),
  {
    qname: `external-to-service.testns.svc.${Z}`,
    qtype: 'A',
    rcode: 'NOERROR',
    answer: [`external-to-service.testns.svc.${Z} 30 IN CNAME ${svc1}`, `${svc1} 30 IN A 10.0.0.1`],
    rule: '4.8 in-zone target resolved by us',
  },
  nodata(`external-to-service.testns.svc.${Z}`, 'AAAA', '4.8 in-zone target without that type: NODATA, no CNAME'),

  // §3, §4.9, §4.10 namespaces, apex, TXT
  nodata(`testns.svc.${Z}`, 'A', '3 namespace level'),
  nx(`testns.svc.${Z}`, 'TXT', '4.9 TXT at the namespace level is NXDOMAIN'),
  nx(`nsnope.svc.${Z}`, 'A', '3 unknown namespace'),
  nx(`svc1.nsnope.svc.${Z}`, 'A', '3 service in an unknown namespace'),
  nodata(`svc.${Z}`, 'A', '3 empty non-terminal svc'),
  nodata(`pod.${Z}`, 'A', '3 empty non-terminal pod'),
  nx(`svc.${Z}`, 'TXT', '4.9 TXT at svc is NXDOMAIN'),
  nx(`foo.${Z}`, 'A', '3 not a Kubernetes name'),
  nx(`*.testns.svc.${Z}`, 'A', '3 no wildcards'),
  nx(`any.testns.svc.${Z}`, 'A', '3 no wildcards'),
  { qname: Z, qtype: 'SOA', rcode: 'NOERROR', answer: [SOA], rule: '4.10 apex SOA' },
  { qname: Z, qtype: 'NS', rcode: 'NOERROR', answer: [`${Z} 30 IN NS ns.dns.${Z}`], additional: [`ns.dns.${Z} 30 IN A 127.0.0.1`], rule: '4.10 apex NS with glue' },
  nodata(Z, 'A', '4.10 A at the apex'),
  nodata(Z, 'SRV', '4.10 SRV at the apex'),
  nx(Z, 'TXT', '4.9 TXT at the apex is NXDOMAIN'),
  { qname: `ns.dns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`ns.dns.${Z} 30 IN A 127.0.0.1`], rule: '4.10 ns.dns.<zone> address' },
  { qname: `dns-version.${Z}`, qtype: 'TXT', rcode: 'NOERROR', answer: [`dns-version.${Z} 28800 IN TXT "1.1.0"`], rule: '4.9 dns-version' },
  nx(`dns-version.${Z}`, 'A', '3 dns-version for other types'),

  // §4.7 pods (insecure)
  { qname: `10-1-0-10.default.pod.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`10-1-0-10.default.pod.${Z} 30 IN A 10.1.0.10`], rule: '4.7 insecure echoes the IP' },
  { qname: `fd00--1.default.pod.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`fd00--1.default.pod.${Z} 30 IN AAAA fd00::1`], rule: '4.7 IPv6 pod label' },
  nodata(`fd00--1.default.pod.${Z}`, 'A', '4.7 A of an IPv6 pod name'),
  nx(`10-1-0-10.nsnope.pod.${Z}`, 'A', '4.7 namespace must exist'),
  nx(`not-an-ip.default.pod.${Z}`, 'A', '4.7 not an IP'),
  nodata(`default.pod.${Z}`, 'A', '4.7 namespace level of pod'),

  // §4.6 PTR
  { qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: [`1.0.0.10.in-addr.arpa. 30 IN PTR ${svc1}`], rule: '4.6 cluster IP wins' },
  { qname: '10.0.1.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: [`10.0.1.10.in-addr.arpa. 30 IN PTR kubia-0.${kubia}`], rule: '4.6 endpoint hostname' },
  {
    qname: '2.0.0.172.in-addr.arpa.',
    qtype: 'PTR',
    rcode: 'NOERROR',
    answer: [`2.0.0.172.in-addr.arpa. 30 IN PTR 172-0-0-2.${svc1}`, `2.0.0.172.in-addr.arpa. 30 IN PTR 172-0-0-2.${hdls1}`],
    rule: '4.6 one PTR per Service selecting the address',
  },
  {
    qname: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa.',
    qtype: 'PTR',
    rcode: 'NOERROR',
    answer: [`1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa. 30 IN PTR svc6.testns.svc.${Z}`],
    rule: '4.6 IPv6 reverse, 32 nibbles',
  },
  { qname: '99.0.0.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NXDOMAIN', authority: [SOA_V4], rule: '4.6 unknown address: NXDOMAIN with the reverse SOA' },
  { qname: '6.0.0.172.in-addr.arpa.', qtype: 'PTR', rcode: 'NXDOMAIN', authority: [SOA_V4], rule: '4.6 not-ready endpoints have no PTR' },
  { qname: 'in-addr.arpa.', qtype: 'SOA', rcode: 'NOERROR', answer: [SOA_V4], rule: '4.10 reverse zone SOA' },
];
