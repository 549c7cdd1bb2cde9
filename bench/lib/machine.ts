import { cpus, totalmem } from 'node:os';
import { availableParallelism } from 'node:os';

export type Machine = { cpus: number; cpu_model: string; memory_gib: number; node: string; platform: string };

export function describeMachine(): Machine {
  return {
    cpus: availableParallelism(),
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}
