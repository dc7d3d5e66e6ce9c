import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { Button, Card, Form, Input, Select, Space, Table, Tag } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import { api } from '../api/client';
import { useI18n, type MessageKey } from '../i18n';
import { TIER_COLORS, yuan, type Customer, type CustomerPage } from './api';

const STATUSES = ['potential', 'normal', 'dormant', 'closed', 'loss_reported'];
const RISKS = ['C1', 'C2', 'C3', 'C4', 'C5'];

/** 客户查询: one box for a name, phone, fund account or ID number, and the usual filters. */
export function Customers() {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [data, setData] = useState<CustomerPage | null>(null);
  const [page, setPage] = useState(1);
  const [filters, setFilters] = useState<Record<string, string | number | undefined>>({});
  const load = useCallback(() => {
    api<CustomerPage>('/crm/customers', { query: { ...filters, page, page_size: 20 } }).then(setData, () => setData(null));
  }, [filters, page]);
  useEffect(load, [load]);
  return (
    <PageContainer title={t('crm.customers')}>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Form form={form} layout="inline" onFinish={(v) => { setPage(1); setFilters(v); }}>
          <Form.Item name="q"><Input allowClear placeholder={t('crm.search_hint')} style={{ width: 280 }} data-testid="crm-q" /></Form.Item>
          <Form.Item name="tier">
            <Select allowClear placeholder={t('crm.tier')} style={{ width: 110 }}
              options={[0, 1, 2, 3, 4].map((x) => ({ value: x, label: t(`crm.tier.${x}` as MessageKey) }))} />
          </Form.Item>
          <Form.Item name="status">
            <Select allowClear placeholder={t('crm.status')} style={{ width: 120 }}
              options={STATUSES.map((s) => ({ value: s, label: t(`crm.status.${s}` as MessageKey) }))} />
          </Form.Item>
          <Form.Item name="risk_level">
            <Select allowClear placeholder={t('crm.risk_level')} style={{ width: 110 }} options={RISKS.map((r) => ({ value: r, label: r }))} />
          </Form.Item>
          <Space>
            <Button type="primary" htmlType="submit" data-testid="crm-search">{t('crm.search')}</Button>
            <Button onClick={() => { form.resetFields(); setPage(1); setFilters({}); }}>{t('crm.reset')}</Button>
          </Space>
        </Form>
      </Card>
      <Table<Customer> rowKey="id" size="small" dataSource={data?.items ?? []} data-testid="crm-results"
        pagination={{ current: page, pageSize: 20, total: data?.total ?? 0, onChange: setPage, showTotal: (n) => t('crm.total', { n }) }}
        columns={[
          { title: t('crm.name'), dataIndex: 'name', render: (v, c) => <Link to={`/crm/customers/${c.id}`}>{v}</Link> },
          { title: t('crm.tier'), dataIndex: 'tier', render: (v: number, c) => <Tag color={TIER_COLORS[v]}>{c.tier_label}</Tag> },
          { title: t('crm.status'), dataIndex: 'status', render: (v: string) => t(`crm.status.${v}` as MessageKey) },
          { title: t('crm.phones'), dataIndex: 'phones', render: (p: Customer['phones']) => p.map((x) => x.number).join(', ') },
          { title: t('crm.fund_account'), dataIndex: 'fund_account' },
          { title: t('crm.risk_level'), dataIndex: 'risk_level' },
          { title: t('crm.assets'), dataIndex: 'assets_fen', align: 'right', render: (v: number | null) => yuan(v) },
          { title: t('crm.tags'), dataIndex: 'tags', render: (v: string[]) => v.map((x) => <Tag key={x}>{x}</Tag>) },
        ]} />
    </PageContainer>
  );
}
