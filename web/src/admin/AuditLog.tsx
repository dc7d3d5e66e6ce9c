import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Card, DatePicker, Form, Input, Select, Space, Table, Tag } from 'antd';
import type { Dayjs } from 'dayjs';
import { PageContainer } from '@ant-design/pro-components';
import { api, type Query } from '../api/client';
import type { AuditEntry } from '../api/types';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { errorText } from '../entity/errors';
import { formatTime, RefSelect } from '../entity/fields';
import { DiffTable } from './DiffTable';

interface Filters { entity?: string; entity_id?: string; action?: string; actor_id?: number; range?: [Dayjs, Dayjs] }

/** 操作流水: search by object, action, person and period; each row opens its before/after. */
export function AuditLog() {
  const { t, pick } = useI18n();
  const { entities, entity } = useSession();
  const [form] = Form.useForm<Filters>();
  const [query, setQuery] = useState<Query>({});
  const [page, setPage] = useState({ page: 1, size: 20 });
  const [data, setData] = useState<{ items: AuditEntry[]; total: number }>({ items: [], total: 0 });
  const [loading, setLoading] = useState(false);
  const [verify, setVerify] = useState<{ ok: boolean; text: string } | null>(null);
  const staffField = entity('staff') ? { name: 'actor_id', type: 'ref' as const, ref_entity: 'staff', label_zh: '', label_en: '', required: false, unique: false, searchable: false, sortable: false, filterable: true, readonly: false } : null;

  const load = useCallback(() => {
    setLoading(true);
    api<{ items: AuditEntry[]; total: number }>('/audit', { query: { ...query, page: page.page, page_size: page.size } })
      .then(setData, () => setData({ items: [], total: 0 }))
      .finally(() => setLoading(false));
  }, [query, page]);
  useEffect(load, [load]);

  const search = (f: Filters) => {
    setPage((p) => ({ ...p, page: 1 }));
    setQuery({
      entity: f.entity, entity_id: f.entity_id, action: f.action, actor_id: f.actor_id,
      from: f.range?.[0]?.startOf('day').valueOf(), to: f.range?.[1]?.endOf('day').valueOf(),
    });
  };
  const runVerify = async () => {
    try {
      const r = await api<{ ok: boolean; rows?: number; checked?: number; problem?: string; first_bad_id?: number }>('/audit/verify');
      setVerify(r.ok ? { ok: true, text: t('audit.verify_ok', { rows: r.rows ?? r.checked ?? 0 }) } : { ok: false, text: t('audit.verify_bad', { detail: JSON.stringify(r) }) });
    } catch (err) {
      setVerify({ ok: false, text: errorText(err, t) });
    }
  };
  const entityLabel = (name: string) => {
    const e = entity(name);
    return e ? pick(e.label_zh, e.label_en) : name;
  };

  return (
    <PageContainer title={t('audit.title')} extra={<Button onClick={runVerify}>{t('audit.verify')}</Button>}>
      <Space direction="vertical" style={{ width: '100%' }}>
        {verify && <Alert type={verify.ok ? 'success' : 'error'} showIcon message={verify.text} closable onClose={() => setVerify(null)} />}
        <Card size="small">
          <Form form={form} layout="inline" onFinish={search} name="audit_search">
            <Form.Item name="entity" label={t('audit.entity')}>
              <Select allowClear style={{ width: 160 }} options={[...entities.map((e) => ({ value: e.name, label: pick(e.label_zh, e.label_en) })), { value: 'change_request', label: t('review.title') }]} />
            </Form.Item>
            <Form.Item name="entity_id" label={t('audit.entity_id')}><Input style={{ width: 100 }} /></Form.Item>
            <Form.Item name="action" label={t('audit.action')}><Input style={{ width: 140 }} /></Form.Item>
            {staffField && <Form.Item name="actor_id" label={t('audit.actor')}><RefSelect field={staffField} /></Form.Item>}
            <Form.Item name="range" label={t('audit.range')}><DatePicker.RangePicker /></Form.Item>
            <Space>
              <Button type="primary" htmlType="submit">{t('common.search')}</Button>
              <Button onClick={() => { form.resetFields(); search({}); }}>{t('common.reset')}</Button>
            </Space>
          </Form>
        </Card>
        <Card size="small">
          <Table<AuditEntry> rowKey="id" size="small" loading={loading} dataSource={data.items} scroll={{ x: 'max-content' }}
            expandable={{ expandedRowRender: (e) => <DiffTable diff={e.diff} entity={e.entity} />, rowExpandable: (e) => !!e.diff && Object.keys(e.diff).length > 0 }}
            pagination={{ current: page.page, pageSize: page.size, total: data.total, showSizeChanger: true,
              showTotal: (total) => t('common.total', { total }), onChange: (p, s) => setPage({ page: p, size: s }) }}
            columns={[
              { title: '#', dataIndex: 'id', width: 80 },
              { title: t('audit.at'), dataIndex: 'at', width: 170, render: (v) => formatTime(v) },
              { title: t('audit.actor'), dataIndex: 'actor_name', width: 120 },
              { title: t('audit.entity'), dataIndex: 'entity', render: (v) => entityLabel(v) },
              { title: t('audit.entity_id'), dataIndex: 'entity_id', width: 90 },
              { title: t('audit.action'), dataIndex: 'action', render: (v) => <Tag>{v}</Tag> },
              { title: t('audit.ip'), dataIndex: 'client_ip', width: 120 },
              { title: t('audit.request_id'), dataIndex: 'request_id' },
            ]} />
        </Card>
      </Space>
    </PageContainer>
  );
}
