/** Facts about the machine a run measured on: the report is meaningless without them. */
import os from 'node:os';
import type { MachineInfo } from './results';

export function machineInfo(mariadb: Record<string, string>): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? '?',
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    mariadb,
  };
}
