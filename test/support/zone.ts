// Records written as zone text, compared as sets (the CoreDNS plugin/test habit).
// SOA serials are never compared: they are times.

import { formatRR, type RR } from '../../src/records/rr.js';

/** One line of zone text, whitespace-normalised, SOA serial zeroed. */
export function normalizeLine(line: string): string {
  const parts = line.trim().split(/\s+/);
  if (parts[3] === 'SOA' && parts.length >= 7) parts[6] = '0';
  return parts.join(' ');
}

export function normalizeSet(lines: readonly string[]): string[] {
  return lines.map(normalizeLine).sort();
}

export function rrSet(records: readonly RR[]): string[] {
  return normalizeSet(records.map(formatRR));
}

export interface Sections {
  rcode: string;
  answer: string[];
  authority: string[];
  additional: string[];
}

export function sortedSections(sections: Sections): Sections {
  return {
    rcode: sections.rcode,
    answer: normalizeSet(sections.answer),
    authority: normalizeSet(sections.authority),
    additional: normalizeSet(sections.additional),
  };
}
