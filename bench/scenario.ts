/**
 * What every scenario shares: its environment, progress lines on stderr, and the rule that a failing
 * scenario becomes a row with an error instead of ending the run (the other numbers still count).
 */
import type { BenchOptions } from './args';
import type { BenchChild } from './child';
import type { MeasureEnv } from './measure';
import { errorMessage } from './peers/common';
import type { ResultGroup, ScenarioResult } from './results';

export interface ScenarioEnv {
  opts: BenchOptions;
  measureEnv: MeasureEnv;
  /** The broker child; undefined in the scenarios that run without it. */
  broker: BenchChild | undefined;
}

export interface ScenarioHead {
  id: string;
  label: string;
  group: ResultGroup;
  unit: ScenarioResult['unit'];
}

export type ScenarioBody = Omit<ScenarioResult, keyof ScenarioHead | 'notes'> & { notes?: string[] };

export function progress(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export async function guarded(head: ScenarioHead, body: () => Promise<ScenarioBody>): Promise<ScenarioResult> {
  progress(`${head.label}...`);
  try {
    const result = await body();
    return { ...head, ...result, notes: result.notes ?? [] };
  } catch (err) {
    progress(`${head.label} FAILED: ${errorMessage(err)}`);
    return { ...head, notes: [], error: errorMessage(err) };
  }
}
