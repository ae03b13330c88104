/**
 * The IPC messages between run.ts and the processes it forks (the broker, the express ceiling).
 * The children answer over IPC rather than stdout so the broker's own JSON logs stay untouched.
 */

export type ChildRequest =
  | { id: number; type: 'stats' }
  | { id: number; type: 'profile-start' }
  | { id: number; type: 'profile-stop'; file: string }
  | { id: number; type: 'stop' };

export interface ChildStats {
  /** Event-loop utilization since the previous 'stats' request. */
  utilization: number;
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  rssBytes: number;
}

export type ChildMessage =
  | { type: 'ready'; port: number; info: unknown }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

export function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === 'object' && value !== null && 'type' in value && (value.type === 'ready' || value.type === 'reply');
}

export function isChildRequest(value: unknown): value is ChildRequest {
  return typeof value === 'object' && value !== null && 'type' in value && 'id' in value && typeof value.id === 'number';
}
