// Types of the ticket API (/api/v1/tickets, /api/v1/workflows).
export interface CurrentTask { task: number; node: string; holder: string; kind: string; due_at: number | null }
export interface TicketRow {
  id: number; no: string; title: string; type: string; type_name: string; status: string; priority: number;
  created_at: number; resolve_due: number | null; overdue: boolean; escalation: number; version: number;
  current: CurrentTask[];
}
export interface TicketTask {
  task: number; node: string; node_name: string; kind: string; status: string; staff_id: number | null;
  staff_name: string | null; group_id: number | null; group_name: string | null; system: string | null;
  outcome: string | null; done_by_name: string | null; created_at: number; done_at: number | null; due_at: number | null;
  parent: number; withdrawable: boolean;
}
export interface HistoryItem { at: number; staff_name: string; action: string; task: number | null; detail: Record<string, unknown> }
export interface WfNode { type: string; name?: string }
export interface WfDefinition { start: string; nodes: Record<string, WfNode>; transitions: { from: string; to: string; if?: string }[] }
export interface Ticket {
  id: number; no: string; type: string; type_name: string; title: string; description: string; status: string;
  priority: number; customer_id: number | null; phone: string | null; call_id: string | null; channel: string;
  creator_id: number; fields: Record<string, unknown>; created_at: number; closed_at: number | null; version: number;
  sla: { resolve_due: number | null; response_due: number | null; paused: boolean; left_ms: number | null; overdue: boolean; escalation: number };
  tasks: TicketTask[]; history: HistoryItem[];
  workflow: { code: string; version: number; definition: WfDefinition; current: string[]; trail: string[] };
}
export interface TypeField { key: string; label: string; type: string; required?: boolean; options?: string[] }
export interface TicketType { id: number; code: string; name: string; fields: TypeField[] | null }

export const STATUS_COLORS: Record<string, string> = { open: 'processing', waiting_customer: 'warning', suspended: 'default', closed: 'success' };

/** "3小时12分" / "-1h 5m": what is left of a deadline, negative when overdue. */
export function left(ms: number, zh: boolean): string {
  const neg = ms < 0;
  let m = Math.floor(Math.abs(ms) / 60000);
  const d = Math.floor(m / 1440);
  m -= d * 1440;
  const h = Math.floor(m / 60);
  m -= h * 60;
  const parts = zh ? [d && `${d}天`, h && `${h}小时`, `${m}分`] : [d && `${d}d`, h && `${h}h`, `${m}m`];
  return (neg ? '-' : '') + parts.filter(Boolean).join(zh ? '' : ' ');
}
