import { readFileSync } from 'node:fs';

/** CPU time and memory of a process, from /proc (Linux). */
export type ProcSample = { atMs: number; cpuMs: number; rssBytes: number; peakRssBytes: number };

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function sampleProcess(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return {
    atMs: Date.now(),
    cpuMs: ((utime + stime) * 1000) / TICKS_PER_SECOND,
    rssBytes: kb('VmRSS'),
    peakRssBytes: kb('VmHWM'),
  };
}

/** Share of one core used between two samples, in percent. */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  return (100 * (to.cpuMs - from.cpuMs)) / Math.max(1, to.atMs - from.atMs);
}

/**
 * Memory figures are reported in MB (10^6 bytes), the unit the targets are written in ("an idle child under
 * 80 MB"); /proc reports kB of 1024 bytes, which sampleProcess has already turned into bytes.
 */
export const MB = 1_000_000;
