import { useCallback, useEffect, useState } from 'react';
import { useParams } from 'react-router-dom';
import { App as AntApp, Button, Card, Descriptions, Form, Input, Modal, Select, Space, Table, Tag, Timeline, Typography } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import { api } from '../api/client';
import { errorText } from '../entity/errors';
import { useLiveEvent } from '../live';
import { useI18n, type MessageKey } from '../i18n';
import { useSession } from '../session';
import { left, STATUS_COLORS, type Ticket, type TicketTask } from './api';
import { WorkflowDiagram } from './WorkflowDiagram';

type Dialog = { action: 'complete' | 'return' | 'transfer' | 'consult'; task: TicketTask } | null;

/** One ticket: its fields, deadline, the process diagram, the tasks with what the user may do, the history. */
export function TicketView() {
  const { id } = useParams();
  const { t, locale } = useI18n();
  const { me } = useSession();
  const { message } = AntApp.useApp();
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [missing, setMissing] = useState(false);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [note, setNote] = useState('');
  const [form] = Form.useForm();
  const load = useCallback(() => {
    api<Ticket>(`/tickets/${id}`).then(setTicket, () => setMissing(true));
  }, [id]);
  useEffect(load, [load]);
  useLiveEvent('ticket.changed', (d) => { if (String((d as { id?: number })?.id) === id) load(); });
  const act = async (action: string, body: Record<string, unknown> = {}) => {
    try {
      await api(`/tickets/${id}/actions/${action}`, { method: 'POST', body: { version: ticket?.version, ...body } });
      message.success(t('ticket.done'));
      setDialog(null);
      load();
      return true;
    } catch (e) {
      message.error(errorText(e, t));
      load();
      return false;
    }
  };
  if (missing) return <PageContainer><Typography.Text>{t('ticket.missing')}</Typography.Text></PageContainer>;
  if (!ticket) return null;
  const mine = (k: TicketTask) => k.staff_id === me?.id;
  const queued = (k: TicketTask) => !k.staff_id && k.group_id !== null && k.group_id === me?.org_id;
  const live = (k: TicketTask) => k.status === 'open' || k.status === 'started';
  const node = ticket.workflow.definition.nodes;
  const earlier = (k: TicketTask) => [...new Set(ticket.workflow.trail)].filter((n) => n !== k.node && ['task', 'approval'].includes(node[n]?.type));
  const submitDialog = async () => {
    if (!dialog) return;
    const v = await form.validateFields();
    const body: Record<string, unknown> = { task: dialog.task.task, comment: v.comment };
    if (dialog.action === 'complete') {
      body.outcome = v.outcome;
      if (v.fields) {
        try { body.fields = JSON.parse(v.fields); } catch { message.error(t('ticket.fields_json')); return; }
      }
    }
    if (dialog.action === 'return') body.node = v.node;
    if (dialog.action === 'transfer' || dialog.action === 'consult') body.to_staff = v.to_staff;
    if (await act(dialog.action, body)) form.resetFields();
  };
  const sla = ticket.sla;
  return (
    <PageContainer title={`${ticket.no} ${ticket.title}`}
      tags={<Tag color={STATUS_COLORS[ticket.status]} data-testid="ticket-status" data-status={ticket.status}>{t(`ticket.status.${ticket.status}` as MessageKey)}</Tag>}
      extra={<Space>
        {ticket.status === 'open' && <Button onClick={() => act('wait_customer')}>{t('ticket.wait_customer')}</Button>}
        {ticket.status === 'waiting_customer' && <Button onClick={() => act('customer_replied')}>{t('ticket.customer_replied')}</Button>}
        {ticket.status === 'closed' && ticket.creator_id === me?.id && <Button onClick={() => act('reopen')}>{t('ticket.reopen')}</Button>}
      </Space>}>
      <Card size="small">
        <Descriptions size="small" column={3}>
          <Descriptions.Item label={t('ticket.type')}>{ticket.type_name}</Descriptions.Item>
          <Descriptions.Item label={t('ticket.priority')}>{t(`ticket.priority.${ticket.priority}` as MessageKey)}</Descriptions.Item>
          <Descriptions.Item label={t('ticket.customer')}>{ticket.customer_id ?? '—'} {ticket.phone ?? ''}</Descriptions.Item>
          <Descriptions.Item label={t('ticket.due')}>
            {sla.resolve_due === null ? '—' : (
              <span data-testid="ticket-sla" data-overdue={sla.overdue ? 'true' : 'false'}>
                <Tag color={sla.overdue ? 'red' : sla.paused ? 'default' : 'blue'}>
                  {sla.paused ? t('ticket.paused') : left((sla.resolve_due ?? 0) - Date.now(), locale === 'zh-CN')}
                </Tag>
                {new Date(sla.resolve_due).toLocaleString()}
              </span>)}
          </Descriptions.Item>
          <Descriptions.Item label={t('ticket.escalation')}><span data-testid="ticket-escalation">{sla.escalation}</span></Descriptions.Item>
          <Descriptions.Item label={t('ticket.created_at')}>{new Date(ticket.created_at).toLocaleString()}</Descriptions.Item>
          <Descriptions.Item label={t('ticket.description')} span={3}>{ticket.description}</Descriptions.Item>
          {Object.entries(ticket.fields).map(([k, v]) => <Descriptions.Item key={k} label={k}>{String(v)}</Descriptions.Item>)}
        </Descriptions>
      </Card>
      <Card size="small" title={`${t('ticket.process')} · ${ticket.workflow.code} v${ticket.workflow.version}`} style={{ marginTop: 16, overflowX: 'auto' }}>
        <WorkflowDiagram def={ticket.workflow.definition} trail={ticket.workflow.trail} current={ticket.workflow.current} />
      </Card>
      <Card size="small" title={t('ticket.tasks')} style={{ marginTop: 16 }}>
        <Table<TicketTask> size="small" rowKey="task" dataSource={ticket.tasks} pagination={false} data-testid="ticket-tasks"
          columns={[
            { title: t('ticket.step'), dataIndex: 'node_name', render: (n: string, k) => k.kind === 'opinion' ? `${n} · ${t('ticket.opinion')}` : n },
            { title: t('ticket.holder'), render: (_, k) => k.staff_name ?? k.group_name ?? k.system },
            { title: t('ticket.status'), dataIndex: 'status', render: (s: string) => t(`ticket.task.${s}` as MessageKey) },
            { title: t('ticket.outcome'), render: (_, k) => [k.outcome, k.done_by_name].filter(Boolean).join(' · ') },
            { title: t('ticket.due'), dataIndex: 'due_at', render: (d: number | null) => (d ? new Date(d).toLocaleString() : '') },
            { title: '', render: (_, k) => (
              <Space size="small" data-testid={`task-actions-${k.node}`}>
                {live(k) && queued(k) && <Button size="small" onClick={() => act('claim', { task: k.task })} data-testid="task-claim">{t('ticket.claim')}</Button>}
                {live(k) && mine(k) && <>
                  <Button size="small" type="primary" onClick={() => setDialog({ action: 'complete', task: k })} data-testid="task-complete">{t('ticket.complete')}</Button>
                  {k.kind !== 'opinion' && <Button size="small" onClick={() => setDialog({ action: 'return', task: k })}>{t('ticket.return')}</Button>}
                  <Button size="small" onClick={() => setDialog({ action: 'transfer', task: k })}>{t('ticket.transfer')}</Button>
                  {k.kind !== 'opinion' && <Button size="small" onClick={() => setDialog({ action: 'consult', task: k })}>{t('ticket.consult')}</Button>}
                </>}
                {k.withdrawable && <Button size="small" onClick={() => act('withdraw', { task: k.task })}>{t('ticket.withdraw')}</Button>}
              </Space>) },
          ]} />
      </Card>
      <Card size="small" title={t('ticket.history')} style={{ marginTop: 16 }}>
        <Timeline data-testid="ticket-history" items={ticket.history.map((h) => ({
          color: h.action.startsWith('sla.') ? 'red' : 'blue',
          children: <span data-action={h.action}>
            {new Date(h.at).toLocaleString()} · {h.staff_name} · {t(`ticket.action.${h.action}` as MessageKey)}
            {h.detail.comment ? ` · ${String(h.detail.comment)}` : ''}{h.detail.text ? ` · ${String(h.detail.text)}` : ''}
            {h.detail.level ? ` · L${String(h.detail.level)}` : ''}{h.detail.outcome ? ` · ${String(h.detail.outcome)}` : ''}
          </span>,
        }))} />
        <Space.Compact style={{ width: '100%' }}>
          <Input value={note} onChange={(e) => setNote(e.target.value)} maxLength={4000} placeholder={t('ticket.note')} />
          <Button disabled={!note} onClick={() => act('note', { text: note }).then((ok) => ok && setNote(''))}>{t('ticket.add_note')}</Button>
        </Space.Compact>
      </Card>
      <Modal open={!!dialog} title={dialog ? t(`ticket.${dialog.action}` as MessageKey) : ''} onCancel={() => setDialog(null)} onOk={submitDialog}
        destroyOnClose okButtonProps={{ 'data-testid': 'task-submit' } as Record<string, string>}>
        <Form form={form} layout="vertical" preserve={false}>
          {dialog?.action === 'complete' && dialog.task.kind === 'approval' && (
            <Form.Item name="outcome" label={t('ticket.outcome')} rules={[{ required: true }]}>
              <Select data-testid="task-outcome" options={[{ value: 'approve', label: t('ticket.approve') }, { value: 'reject', label: t('ticket.reject') }]} />
            </Form.Item>)}
          {dialog?.action === 'complete' && dialog.task.kind === 'opinion' && (
            <Form.Item name="outcome" label={t('ticket.opinion')} rules={[{ required: true }]}><Input.TextArea rows={2} /></Form.Item>)}
          {dialog?.action === 'complete' && dialog.task.kind === 'task' && (
            <Form.Item name="fields" label={t('ticket.fields')} extra={t('ticket.fields_json')}><Input.TextArea rows={2} data-testid="task-fields" /></Form.Item>)}
          {dialog?.action === 'return' && (
            <Form.Item name="node" label={t('ticket.return_to')} rules={[{ required: true }]}>
              <Select options={earlier(dialog.task).map((n) => ({ value: n, label: node[n]?.name ?? n }))} />
            </Form.Item>)}
          {(dialog?.action === 'transfer' || dialog?.action === 'consult') && (
            <Form.Item name="to_staff" label={t('ticket.to_staff')} rules={[{ required: true }]}><Input placeholder="username" /></Form.Item>)}
          <Form.Item name="comment" label={t('ticket.comment')}><Input.TextArea rows={2} maxLength={2000} data-testid="task-comment" /></Form.Item>
        </Form>
      </Modal>
    </PageContainer>
  );
}
