// The customer module's REST interface (src/crm/routes.cpp).
export interface PhoneView { number: string; extension: string; kind: string }
export interface ContactItem {
  id: number; at: number; channel: string; direction: string; kind: string;
  ref_type: string | null; ref_id: number | null; summary: string; staff_id: number | null; source: string;
}
export interface Customer {
  id: number; external_key: string | null; kind: string; status: string; name: string;
  id_type: string | null; id_no: string | null; fund_account: string | null; sh_account: string | null;
  sz_account: string | null; commission_rate_ppm: number | null; risk_level: string | null; risk_expires: string | null;
  org_id: number | null; manager_id: number | null; email: string | null; address: string | null;
  assets_fen: number | null; liabilities_fen: number | null; credit_limit_fen: number | null;
  turnover_fen: number | null; commission_fen: number | null; products: number | null; opened_on: string | null;
  cards: string | null; tags: string[]; ext: Record<string, unknown>; tier: number; tier_label: string;
  score: number | null; graded_at: number | null; version: number; masked: boolean; phones: PhoneView[];
  org_name?: string; manager_name?: string; risk_expired?: boolean;
  accounts?: { kind: string; number: string; institution: string; status: string }[];
  last_contacts?: ContactItem[]; contacts?: ContactItem[];
  tier_history?: { id: number; run_id: number | null; from_tier: number; to_tier: number; score: number | null; at: number }[];
}
export interface CustomerPage { items: Customer[]; total: number; page: number; page_size: number }
export interface ScreenPop { customers: Customer[]; number?: string; list?: { list: string; action: string; reason: string } | null }
export interface Indicator { code: string; label_zh: string; label_en: string; unit: string }
export interface ModelIndicator { code: string; weight: number; full_mark: number }
export interface GradingModel { indicators: ModelIndicator[]; thresholds: number[] }
export interface TrialResult {
  customers: number; per_tier: number[]; histogram: number[]; moves: number[][]; up: number; down: number; same: number;
  run_id?: number;
}
export interface ImportResult {
  batch_key: string; rows: number; inserted: number; updated: number; failed: number; replayed: boolean;
  errors: { row: number; field: string; code: string; message: string }[];
}

export interface TradeAnalysis {
  from: string; months: number;
  by_month: { month: string; trades: number; amount_fen: number; commission_fen: number; active_days: number; customers: number }[];
  products: { product_code: string; product_name: string; product_type: string; trades: number; amount_fen: number; commission_fen: number }[];
  by_type: { product_type: string; trades: number; amount_fen: number }[];
  funds_by_month: { month: string; in_fen: number; out_fen: number; net_fen: number }[];
  totals: {
    trades: number; amount_fen: number; commission_fen: number; active_days: number; trades_per_month: number;
    funds_in_fen: number; funds_out_fen: number;
  };
}

export const TIER_COLORS = ['default', 'geekblue', 'gold', 'purple', 'magenta'];

/** Yuan from integer fen, grouped: 1234567 → "12,345.67". */
export function yuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '-';
  return (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** Monthly trades and the net money in, as one ECharts option (the 360° view and 客户统计). */
export function tradeChartOption(a: TradeAnalysis, t: (k: 'crm.trades.amount' | 'crm.trades.commission' | 'crm.funds.net' | 'crm.unit.fen') => string) {
  const months = [...new Set([...a.by_month.map((m) => m.month), ...a.funds_by_month.map((m) => m.month)])].sort();
  const of = <T extends { month: string }>(list: T[], f: (x: T) => number) => months.map((m) => {
    const x = list.find((y) => y.month === m);
    return x ? f(x) / 100 : 0;
  });
  return {
    tooltip: { trigger: 'axis' },
    legend: { data: [t('crm.trades.amount'), t('crm.funds.net'), t('crm.trades.commission')] },
    xAxis: { type: 'category', data: months },
    yAxis: [{ type: 'value', name: t('crm.unit.fen') }, { type: 'value', name: t('crm.unit.fen') }],
    series: [
      { name: t('crm.trades.amount'), type: 'bar', data: of(a.by_month, (m) => m.amount_fen) },
      { name: t('crm.funds.net'), type: 'bar', data: of(a.funds_by_month, (m) => m.net_fen) },
      { name: t('crm.trades.commission'), type: 'line', yAxisIndex: 1, data: of(a.by_month, (m) => m.commission_fen) },
    ],
  };
}

export interface Webhook {
  id: number; name: string; url: string; enabled: boolean; after_id: number; version: number; created_at: number;
  updated_at: number; failures: number; next_attempt_at: number | null; last_attempt_at: number | null;
  last_status: number | null; last_error: string | null; last_delivered_at: number | null; delivered: number;
  has_secret: boolean; lag: number;
}
