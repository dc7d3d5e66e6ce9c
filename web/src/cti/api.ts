import { api } from '../api/client';

// The real-time core's REST interface (src/cti/routes.cpp).
export interface AgentLive {
  staff_id: number;
  username: string;
  name: string;
  extension: string;
  level: number;
  org_id: number;
  org_name: string;
  state: 'signed_out' | 'not_ready' | 'ready' | 'reserved' | 'busy' | 'wrap_up';
  reason: string;
  since: number;
  call: number;
  held: boolean;
  muted: boolean;
  pending_not_ready: boolean;
  conversations: number;
  phone_registered: boolean;
}
export interface CallLive {
  id: number;
  direction: string;
  ani: string;
  dnis: string;
  phase: string;
  queue: string | null;
  queue_name: string | null;
  owner: string | null;
  owner_name: string | null;
  tier: number;
  started: number;
  queued_at: number;
  verified: boolean;
  ivr: string | null;
  legs: { leg: number; what: string }[];
}
export interface ConversationLive {
  id: number;
  channel: 'chat' | 'email';
  customer: string;
  subject: string;
  state: 'waiting' | 'offered' | 'active' | 'wrap_up';
  queue: string;
  queue_name: string;
  agent: string | null;
  offered_to: string[];
  tier: number;
  started: number;
  queued_at: number;
  accepted_at: number | null;
  ended: boolean;
  messages: number;
}
export interface Desk {
  agent: AgentLive;
  call: CallLive | null;
  conversations: ConversationLive[];
  colleagues: { username: string; name: string; state: string }[];
  queues: { code: string; name: string }[];
  ivr_targets: { value: string; label: string }[];
  verify_target: string | null;
}
export interface Window {
  minutes: number;
  offered: number;
  answered: number;
  abandoned: number;
  handled: number;
  service_level: number;
  abandon_rate: number;
  asa_ms: number;
  aht_ms: number;
}
export interface Live {
  at: number;
  agents: AgentLive[];
  calls: CallLive[];
  queues: { code: string; name: string; waiting: number; longest_wait_ms: number; agents: Record<string, number>; windows: Window[] }[];
  teams: { org_id: number; name: string; agents: Record<string, number>; windows: Window[] }[];
}

export const agentCommand = (action: string, body: object = {}) =>
  api<Desk>(`/cti/agent/${action}`, { method: 'POST', body });
export const supervisorCommand = (action: string, body: object = {}) =>
  api(`/cti/supervisor/${action}`, { method: 'POST', body });

/** mm:ss (or h:mm:ss) from milliseconds. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

export const STATE_COLORS: Record<string, string> = {
  signed_out: 'default',
  not_ready: 'orange',
  ready: 'green',
  reserved: 'gold',
  busy: 'blue',
  wrap_up: 'purple',
};
