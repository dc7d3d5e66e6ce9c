import { useEffect, useMemo, useState } from 'react';
import { Card, Col, Row, Select, Statistic, Table } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import { api } from '../api/client';
import { useI18n, type MessageKey } from '../i18n';
import { Chart } from '../pages/Chart';
import { tradeChartOption, yuan, type TradeAnalysis } from './api';

interface StatRow { key: string | number | null; label?: string; customers: number; assets_fen: number; commission_fen: number }

/**
 * 客户统计 and 客户交易分析 for everybody in the user's data scope: customers by branch, tier,
 * risk level and status, and the trades of the last months by month and by product.
 */
export function CustomerStats() {
  const { t } = useI18n();
  const [by, setBy] = useState<Record<string, StatRow[]>>({});
  const [months, setMonths] = useState(12);
  const [trades, setTrades] = useState<TradeAnalysis | null>(null);
  useEffect(() => {
    for (const g of ['org', 'tier', 'risk_level', 'status'])
      api<{ rows: StatRow[] }>('/crm/stats', { query: { by: g } }).then((r) => setBy((b) => ({ ...b, [g]: r.rows })), () => undefined);
  }, []);
  useEffect(() => {
    api<TradeAnalysis>('/crm/trades/analysis', { query: { months } }).then(setTrades, () => setTrades(null));
  }, [months]);
  const name = (g: string, r: StatRow) => {
    if (r.key === null) return t('crm.stats.none');
    if (g === 'org' || g === 'tier') return r.label || String(r.key);
    if (g === 'status') return t(`crm.status.${r.key}` as MessageKey);
    return String(r.key);
  };
  const pie = (g: string) => ({
    tooltip: { trigger: 'item' },
    series: [{ type: 'pie', radius: ['35%', '65%'], data: (by[g] ?? []).map((r) => ({ name: name(g, r), value: r.customers })) }],
  });
  const tradeChart = useMemo(() => trades && tradeChartOption(trades, t), [trades, t]);
  const total = (by.tier ?? []).reduce((s, r) => s + r.customers, 0);
  return (
    <PageContainer title={t('crm.stats')}>
      <Row gutter={16}>
        {(['org', 'tier', 'risk_level', 'status'] as const).map((g) => (
          <Col xs={24} md={12} xl={6} key={g}>
            <Card size="small" title={t(`crm.stats.by_${g}` as MessageKey)} data-testid={`stats-${g}`}>
              <Chart option={pie(g)} height={220} label={t(`crm.stats.by_${g}` as MessageKey)} />
              <Table<StatRow> size="small" rowKey={(r) => String(r.key)} pagination={false} dataSource={by[g] ?? []}
                columns={[
                  { title: t(`crm.stats.by_${g}` as MessageKey), render: (_, r) => name(g, r) },
                  { title: t('crm.grading.customers'), dataIndex: 'customers', align: 'right' },
                  { title: t('crm.assets'), dataIndex: 'assets_fen', align: 'right', render: (x: number) => yuan(x) },
                ]} />
            </Card>
          </Col>
        ))}
      </Row>
      <Card size="small" style={{ marginTop: 16 }} title={t('crm.stats.trades')} data-testid="stats-trades"
        extra={<Select value={months} onChange={setMonths} style={{ width: 120 }}
          options={[3, 6, 12, 24].map((m) => ({ value: m, label: t('crm.stats.months', { n: m }) }))} />}>
        <Row gutter={16}>
          <Col xs={24} xl={6}>
            <Statistic title={t('crm.grading.customers')} value={total} />
            <Statistic title={t('crm.trades.count')} value={trades?.totals.trades ?? 0} />
            <Statistic title={t('crm.trades.amount')} value={yuan(trades?.totals.amount_fen ?? 0)} />
            <Statistic title={t('crm.trades.commission')} value={yuan(trades?.totals.commission_fen ?? 0)} />
          </Col>
          <Col xs={24} xl={18}>
            {tradeChart && trades && trades.totals.trades > 0 ? <Chart option={tradeChart} height={260} label={t('crm.stats.trades')} />
              : t('crm.trades.none')}
          </Col>
        </Row>
        <Table size="small" style={{ marginTop: 8 }} rowKey="product_code" pagination={false} dataSource={trades?.products ?? []}
          columns={[
            { title: t('crm.trades.product'), render: (_, p) => `${p.product_name} (${p.product_code})` },
            { title: t('crm.trades.count'), dataIndex: 'trades', align: 'right' },
            { title: t('crm.trades.amount'), dataIndex: 'amount_fen', align: 'right', render: (x: number) => yuan(x) },
            { title: t('crm.trades.commission'), dataIndex: 'commission_fen', align: 'right', render: (x: number) => yuan(x) },
          ]} />
      </Card>
    </PageContainer>
  );
}
