import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';

/** Writes the raw results with enough context (machine, versions) to compare two runs later. */
export function writeResults(file, { figures, startedAt, finishedAt, peerVersion }) {
  mkdirSync(dirname(file), { recursive: true });
  const doc = {
    startedAt,
    finishedAt,
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryMB: Math.round(os.totalmem() / 2 ** 20),
    },
    peer: { package: 'cozy-konnector-libs', version: peerVersion },
    figures,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  return file;
}
