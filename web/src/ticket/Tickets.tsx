import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { App as AntApp, Button, Form, Input, InputNumber, Modal, Select, Space, Table, Tabs, Tag } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import { api } from '../api/client';
import { errorText } from '../entity/errors';
import { useLiveEvent } from '../live';
import { useI18n, type MessageKey } from '../i18n';
import { useSession } from '../session';
import { left, STATUS_COLORS, type TicketRow, type TicketType, type TypeField } from './api';

const VIEWS = ['todo', 'done', 'created', 'team', 'overdue'] as const;

/**
 * 工单: 我的待办, 我的已办, 我创建的, the team's tickets and the overdue ones, each row with who holds it
 * now and what is left of its deadline; 登记受理单 opens the form, prefilled from the desk's call.
 */
export function Tickets() {
  const { t, locale } = useI18n();
  const { has } = useSession();
  const { message } = AntApp.useApp();
  const [params, setParams] = useSearchParams();
  const view = (params.get('view') ?? 'todo') as (typeof VIEWS)[number];
  const [rows, setRows] = useState<TicketRow[]>([]);
  const [total, setTotal] = useState(0);
  const [page, setPage] = useState(1);
  const [now, setNow] = useState(Date.now());
  const load = useCallback(() => {
    api<{ items: TicketRow[]; total: number }>('/tickets', { query: { view, page } }).then((r) => {
      setRows(r.items);
      setTotal(r.total);
      setNow(Date.now());
    }, (e) => message.error(errorText(e, t)));
  }, [view, page, message, t]);
  useEffect(load, [load]);
  useLiveEvent('ticket.changed', load);
  const views = VIEWS.filter((v) => (v === 'team' || v === 'overdue' ? has('ticket:read') : true));
  return (
    <PageContainer title={t('ticket.title')}
      extra={has('ticket:create') && <Button type="primary" onClick={() => setParams({ view, new: '1' })} data-testid="ticket-new">{t('ticket.new')}</Button>}>
      <Tabs activeKey={view} onChange={(v) => { setPage(1); setParams({ view: v }); }}
        items={views.map((v) => ({ key: v, label: <span data-testid={`ticket-view-${v}`}>{t(`ticket.view.${v}` as MessageKey)}</span> }))} />
      <Table<TicketRow> size="small" rowKey="id" dataSource={rows} data-testid="ticket-list"
        pagination={{ current: page, total, pageSize: 20, onChange: setPage, showSizeChanger: false }}
        columns={[
          { title: t('ticket.no'), dataIndex: 'no', render: (no: string, r) => <Link to={`/tickets/${r.id}`} data-testid={`ticket-${r.no}`}>{no}</Link> },
          { title: t('ticket.subject'), dataIndex: 'title' },
          { title: t('ticket.type'), dataIndex: 'type_name' },
          { title: t('ticket.status'), dataIndex: 'status', render: (s: string) => <Tag color={STATUS_COLORS[s]}>{t(`ticket.status.${s}` as MessageKey)}</Tag> },
          { title: t('ticket.holder'), render: (_, r) => r.current.map((c) => `${c.node} · ${c.holder}`).join('; ') },
          { title: t('ticket.due'), render: (_, r) => r.resolve_due === null ? '—' : (
            <Tag color={r.overdue ? 'red' : 'blue'}>{left(r.resolve_due - now, locale === 'zh-CN')}</Tag>) },
          { title: t('ticket.escalation'), dataIndex: 'escalation', render: (n: number) => (n ? <Tag color="volcano">{n}</Tag> : '') },
        ]} />
      {params.get('new') && <NewTicket onClose={() => { params.delete('new'); setParams(params); }} />}
    </PageContainer>
  );
}

/** 登记受理单: the type's own fields follow the type; from the desk the call's number and id come along. */
function NewTicket({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [types, setTypes] = useState<TicketType[]>([]);
  const [form] = Form.useForm();
  const typeCode = Form.useWatch('type', form);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api<{ items: TicketType[] }>('/tickets/types').then((r) => setTypes(r.items), () => undefined);
    const phone = params.get('phone');
    if (phone)  // the caller's file, if the agent may serve him
      api<{ customers: { id: number }[] }>('/crm/screen-pop', { query: { phone } })
        .then((p) => p.customers[0] && form.setFieldValue('customer_id', p.customers[0].id), () => undefined);
  }, [params, form]);
  const fields: TypeField[] = types.find((x) => x.code === typeCode)?.fields ?? [];
  const submit = async () => {
    const v = await form.validateFields();
    const own: Record<string, unknown> = {};
    for (const f of fields) if (v[`f_${f.key}`] !== undefined && v[`f_${f.key}`] !== '') own[f.key] = v[`f_${f.key}`];
    setBusy(true);
    try {
      const r = await api<{ id: number; no: string }>('/tickets', {
        method: 'POST',
        headers: { 'Idempotency-Key': `new-${Date.now()}-${Math.random()}` },
        body: { type: v.type, title: v.title, description: v.description ?? '', priority: v.priority ?? 2,
          customer_id: v.customer_id || undefined, phone: params.get('phone') ?? undefined,
          call_id: params.get('call_id') ?? undefined, channel: params.get('call_id') ? 'phone' : 'web', fields: own },
      });
      message.success(`${t('ticket.created')} ${r.no}`);
      navigate(`/tickets/${r.id}`);
    } catch (e) {
      message.error(errorText(e, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open title={t('ticket.new')} onCancel={onClose} onOk={submit} confirmLoading={busy} destroyOnClose
      okButtonProps={{ 'data-testid': 'ticket-submit' } as Record<string, string>}>
      <Form form={form} layout="vertical" initialValues={{ priority: 2 }}>
        <Form.Item name="type" label={t('ticket.type')} rules={[{ required: true }]}>
          <Select data-testid="ticket-type" options={types.map((x) => ({ value: x.code, label: x.name }))} />
        </Form.Item>
        <Form.Item name="title" label={t('ticket.subject')} rules={[{ required: true, max: 200 }]}>
          <Input data-testid="ticket-subject" />
        </Form.Item>
        <Form.Item name="description" label={t('ticket.description')}><Input.TextArea rows={3} maxLength={4000} /></Form.Item>
        <Space>
          <Form.Item name="priority" label={t('ticket.priority')}>
            <Select style={{ width: 120 }} options={[1, 2, 3, 4].map((p) => ({ value: p, label: t(`ticket.priority.${p}` as MessageKey) }))} />
          </Form.Item>
          <Form.Item name="customer_id" label={t('ticket.customer')}><InputNumber min={1} data-testid="ticket-customer" style={{ width: 160 }} /></Form.Item>
        </Space>
        {fields.map((f) => (
          <Form.Item key={f.key} name={`f_${f.key}`} label={f.label} rules={[{ required: !!f.required }]}>
            {f.type === 'enum'
              ? <Select data-testid={`ticket-field-${f.key}`} options={(f.options ?? []).map((o) => ({ value: o, label: o }))} />
              : <Input data-testid={`ticket-field-${f.key}`} />}
          </Form.Item>
        ))}
      </Form>
    </Modal>
  );
}
