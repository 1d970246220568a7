// Resource records as the record builders produce them. Names are fully
// qualified, lower case, with the trailing dot; the wire layer echoes the
// query's spelling where CoreDNS does (owner names, the zone part of built names).

interface RRBase {
  name: string;
  ttl: number;
}

export type RR = RRBase &
  (
    | { type: 'A'; address: string }
    | { type: 'AAAA'; address: string }
    | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
    | { type: 'PTR'; target: string }
    | { type: 'CNAME'; target: string }
    | { type: 'NS'; target: string }
    | { type: 'TXT'; text: string[] }
    | {
        type: 'SOA';
        mname: string;
        rname: string;
        serial: number;
        refresh: number;
        retry: number;
        expire: number;
        minimum: number;
      }
  );

export type RRType = RR['type'];

/** One record in zone-file text, the form tests and docs compare: `name. 30 IN A 10.0.0.1`. */
export function formatRR(rr: RR): string {
  const head = `${rr.name} ${rr.ttl} IN ${rr.type}`;
  switch (rr.type) {
    case 'A':
    case 'AAAA':
      return `${head} ${rr.address}`;
    case 'SRV':
      return `${head} ${rr.priority} ${rr.weight} ${rr.port} ${rr.target}`;
    case 'PTR':
    case 'CNAME':
    case 'NS':
      return `${head} ${rr.target}`;
    case 'TXT':
      return `${head} ${rr.text.map((t) => JSON.stringify(t)).join(' ')}`;
    case 'SOA':
      return `${head} ${rr.mname} ${rr.rname} ${rr.serial} ${rr.refresh} ${rr.retry} ${rr.expire} ${rr.minimum}`;
  }
}
