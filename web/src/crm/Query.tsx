import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { App as AntApp, Button, Card, Input, InputNumber, Select, Space, Table, Tag } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { PageContainer } from '@ant-design/pro-components';
import { api } from '../api/client';
import { errorText } from '../entity/errors';
import { useI18n, type MessageKey } from '../i18n';
import { TIER_COLORS, yuan, type Customer, type CustomerPage } from './api';

type Kind = 'number' | 'money' | 'text' | 'date' | 'enum';
interface FieldDef { field: string; kind: Kind; options?: string[] }
interface Condition { field: string; op: string; value: unknown }
interface Saved { id: number; name: string; definition: { filters: Condition[] } }

const FIELDS: FieldDef[] = [
  { field: 'tier', kind: 'enum', options: ['0', '1', '2', '3', '4'] },
  { field: 'status', kind: 'enum', options: ['potential', 'normal', 'dormant', 'closed', 'loss_reported'] },
  { field: 'risk_level', kind: 'enum', options: ['C1', 'C2', 'C3', 'C4', 'C5'] },
  { field: 'kind', kind: 'enum', options: ['individual', 'institution'] },
  { field: 'assets_fen', kind: 'money' },
  { field: 'turnover_fen', kind: 'money' },
  { field: 'commission_fen', kind: 'money' },
  { field: 'products', kind: 'number' },
  { field: 'opened_on', kind: 'date' },
  { field: 'risk_expires', kind: 'date' },
  { field: 'name', kind: 'text' },
  { field: 'tag', kind: 'text' },
  { field: 'phone', kind: 'text' },
];
const OPS: Record<Kind, string[]> = {
  number: ['gte', 'lte', 'eq', 'ne'], money: ['gte', 'lte'], date: ['gte', 'lte', 'empty'],
  enum: ['in', 'eq', 'ne'], text: ['prefix', 'eq'],
};

/**
 * 综合查询: any combination of conditions on the customer file, run inside the user's data scope,
 * and saved under a name (each user's own). Money is typed in yuan and sent in fen.
 */
export function CustomerQuery() {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  const [conds, setConds] = useState<Condition[]>([{ field: 'tier', op: 'in', value: ['3', '4'] }]);
  const [page, setPage] = useState(1);
  const [data, setData] = useState<CustomerPage | null>(null);
  const [saved, setSaved] = useState<Saved[]>([]);
  const [name, setName] = useState('');
  const def = (f: string) => FIELDS.find((x) => x.field === f) ?? FIELDS[0];
  const label = (f: string) => t((f === 'name' ? 'crm.q.name_field' : `crm.q.${f}`) as MessageKey);
  const loadSaved = () => api<{ items: Saved[] }>('/crm_saved_query', { query: { page_size: 100 } }).then((r) => setSaved(r.items), () => undefined);
  useEffect(() => { loadSaved(); }, []);

  // What the server takes: tiers as numbers, money in fen, the field "tag" with "contains".
  const filters = () => conds.map((c) => {
    const d = def(c.field);
    let value = c.value;
    if (d.kind === 'money') value = Math.round(Number(c.value ?? 0) * 100);
    if (c.field === 'tier') value = Array.isArray(c.value) ? c.value.map(Number) : Number(c.value);
    return { field: c.field, op: c.field === 'tag' ? 'contains' : c.op, value };
  });
  const run = async (p = 1) => {
    try {
      setPage(p);
      setData(await api<CustomerPage>('/crm/customers/query', { method: 'POST', body: { filters: filters(), page: p, page_size: 20 } }));
    } catch (e) {
      message.error(errorText(e, t));
    }
  };
  const save = async () => {
    try {
      await api('/crm_saved_query', { method: 'POST', body: { name, definition: { filters: conds } } });
      message.success(t('crm.saved'));
      setName('');
      loadSaved();
    } catch (e) {
      message.error(errorText(e, t));
    }
  };
  const set = (i: number, patch: Partial<Condition>) => setConds(conds.map((c, k) => (k === i ? { ...c, ...patch } : c)));

  return (
    <PageContainer title={t('crm.query')}>
      <Card size="small" style={{ marginBottom: 16 }}
        extra={<Select placeholder={t('crm.q.saved')} style={{ width: 220 }} data-testid="saved-queries"
          options={saved.map((s) => ({ value: s.id, label: s.name }))}
          onChange={(id) => { const s = saved.find((x) => x.id === id); if (s) setConds(s.definition.filters); }} />}>
        <Space direction="vertical" style={{ width: '100%' }}>
          {conds.map((c, i) => {
            const d = def(c.field);
            return (
              <Space key={i} wrap data-testid={`cond-${i}`}>
                <Select value={c.field} style={{ width: 160 }} options={FIELDS.map((f) => ({ value: f.field, label: label(f.field) }))}
                  onChange={(f) => set(i, { field: f, op: OPS[def(f).kind][0], value: undefined })} />
                <Select value={c.op} style={{ width: 110 }} options={OPS[d.kind].map((o) => ({ value: o, label: t(`crm.op.${o}` as MessageKey) }))}
                  onChange={(op) => set(i, { op })} />
                {c.op === 'empty' ? null : d.kind === 'enum' ? (
                  <Select mode={c.op === 'in' ? 'multiple' : undefined} style={{ minWidth: 200 }} value={c.value as string}
                    onChange={(v) => set(i, { value: v })}
                    options={(d.options ?? []).map((o) => ({ value: o, label: c.field === 'tier' ? t(`crm.tier.${o}` as MessageKey)
                      : c.field === 'risk_level' ? o : t(`crm.${c.field}.${o}` as MessageKey) }))} />
                ) : d.kind === 'money' || d.kind === 'number' ? (
                  <InputNumber min={0} value={c.value as number} onChange={(v) => set(i, { value: v })} style={{ width: 200 }}
                    addonAfter={d.kind === 'money' ? t('crm.unit.fen') : undefined} data-testid={`value-${i}`} />
                ) : (
                  <Input value={c.value as string} onChange={(e) => set(i, { value: e.target.value })} style={{ width: 200 }}
                    placeholder={d.kind === 'date' ? 'YYYY-MM-DD' : undefined} data-testid={`value-${i}`} />
                )}
                <MinusCircleOutlined onClick={() => setConds(conds.filter((_, k) => k !== i))} />
              </Space>
            );
          })}
          <Space wrap>
            <Button type="dashed" icon={<PlusOutlined />} onClick={() => setConds([...conds, { field: 'assets_fen', op: 'gte', value: 0 }])}
              data-testid="add-condition">{t('crm.q.add')}</Button>
            <Button type="primary" onClick={() => run(1)} data-testid="run-query">{t('crm.search')}</Button>
            <Space.Compact>
              <Input placeholder={t('crm.q.name')} value={name} onChange={(e) => setName(e.target.value)} style={{ width: 180 }} data-testid="query-name" />
              <Button disabled={!name.trim()} onClick={save} data-testid="save-query">{t('crm.q.save')}</Button>
            </Space.Compact>
          </Space>
        </Space>
      </Card>
      <Table<Customer> rowKey="id" size="small" dataSource={data?.items ?? []} data-testid="query-results"
        pagination={{ current: page, pageSize: 20, total: data?.total ?? 0, onChange: (p) => run(p), showTotal: (n) => t('crm.total', { n }) }}
        columns={[
          { title: t('crm.name'), dataIndex: 'name', render: (v, c) => <Link to={`/crm/customers/${c.id}`}>{v}</Link> },
          { title: t('crm.tier'), dataIndex: 'tier', render: (v: number, c) => <Tag color={TIER_COLORS[v]}>{c.tier_label}</Tag> },
          { title: t('crm.status'), dataIndex: 'status', render: (v: string) => t(`crm.status.${v}` as MessageKey) },
          { title: t('crm.risk_level'), dataIndex: 'risk_level' },
          { title: t('crm.assets'), dataIndex: 'assets_fen', align: 'right', render: (v: number | null) => yuan(v) },
          { title: t('crm.commission'), dataIndex: 'commission_fen', align: 'right', render: (v: number | null) => yuan(v) },
          { title: t('crm.tags'), dataIndex: 'tags', render: (v: string[]) => v.map((x) => <Tag key={x}>{x}</Tag>) },
        ]} />
    </PageContainer>
  );
}
