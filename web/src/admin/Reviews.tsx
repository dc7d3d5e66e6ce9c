import { useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { Alert, App, Button, Card, Descriptions, Drawer, Input, Space, Table, Tabs, Tag, Timeline } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import { api, listAll } from '../api/client';
import type { ChangeRequest, EntityMeta, Rec } from '../api/types';
import { useI18n, type MessageKey } from '../i18n';
import { useSession } from '../session';
import { errorText } from '../entity/errors';
import { FieldValue, formatTime } from '../entity/fields';
import { useRefTitle } from '../entity/refs';
import { useLiveEvent } from '../live';

const STATUS_COLOR: Record<string, string> = { pending: 'gold', first_approved: 'blue', approved: 'green', rejected: 'red' };

/** A person's name: the one recorded on the request, else looked up (when within scope). */
function StaffName({ id, name }: { id: number | null; name?: string | null }) {
  const { entity } = useSession();
  const { t } = useI18n();
  const title = useRefTitle(name ? undefined : entity('staff'), name ? undefined : id ?? undefined);
  return <>{name ?? (id === 0 ? t('common.system') : title ?? '-')}</>;
}

function OrgName({ id }: { id: number | null }) {
  const { entity } = useSession();
  return <>{useRefTitle(entity('org_unit'), id ?? undefined) ?? '-'}</>;
}

function useLabels() {
  const { t, pick } = useI18n();
  const { entity } = useSession();
  return {
    kind: (cr: ChangeRequest) => {
      if (cr.kind === 'staff_role') return t('review.kind_grant');
      const e = entity(cr.kind);
      return e ? pick(e.label_zh, e.label_en) : cr.kind;
    },
    action: (a: string) => {
      const k = `review.action.${a}` as MessageKey;
      return t(k) !== k ? t(k) : a;
    },
    status: (cr: ChangeRequest) =>
      t((cr.status === 'pending' && cr.steps === 1 ? 'review.status.pending_single' : `review.status.${cr.status}`) as MessageKey),
  };
}

/** What a request would change: requested values beside the record's current ones. */
function Changes({ cr, meta }: { cr: ChangeRequest; meta?: EntityMeta }) {
  const { t, fieldLabel } = useI18n();
  const [current, setCurrent] = useState<Rec | null>(null);
  const [roles, setRoles] = useState<Rec[]>([]);
  useEffect(() => {
    setCurrent(null);
    if (meta && cr.record_id) api<Rec>(`/${meta.name}/${cr.record_id}`).then(setCurrent, () => setCurrent(null));
    if (cr.kind === 'staff_role') listAll('role').then(setRoles, () => setRoles([]));
  }, [cr, meta]);

  if (cr.kind === 'staff_role') {
    const ids = (cr.payload.role_ids as number[]) ?? [];
    return (
      <Descriptions size="small" bordered column={1}>
        <Descriptions.Item label={t('review.submitted_by')}><StaffName id={cr.submitted_by} name={cr.submitted_by_name} /></Descriptions.Item>
        <Descriptions.Item label={t('staff.roles')}><StaffName id={Number(cr.payload.staff_id)} /></Descriptions.Item>
        <Descriptions.Item label={t('review.roles_requested')}>
          {ids.length ? ids.map((id) => <Tag key={id} color="blue">{String(roles.find((r) => r.id === id)?.name ?? `#${id}`)}</Tag>) : t('common.none')}
        </Descriptions.Item>
      </Descriptions>
    );
  }
  if (!meta) return <pre>{JSON.stringify(cr.payload, null, 2)}</pre>;
  const names = cr.action === 'archive' ? meta.fields.map((f) => f.name) : Object.keys(cr.payload);
  const rows = names.map((n) => meta.fields.find((f) => f.name === n)).filter(Boolean) as EntityMeta['fields'];
  return (
    <Table size="small" pagination={false} rowKey="name" dataSource={rows}
      columns={[
        { title: t('review.field'), key: 'f', width: 140, render: (_, f) => fieldLabel(f) },
        ...(cr.record_id ? [{ title: t('review.current'), key: 'c', render: (_: unknown, f: EntityMeta['fields'][number]) => <FieldValue field={f} value={current?.[f.name]} /> }] : []),
        ...(cr.action !== 'archive' ? [{ title: t('review.proposed'), key: 'p', render: (_: unknown, f: EntityMeta['fields'][number]) => <FieldValue field={f} value={cr.payload[f.name]} /> }] : []),
      ]} />
  );
}

function Decision({ cr, onDone }: { cr: ChangeRequest; onDone: () => void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const decide = async (approve: boolean) => {
    if (!approve && !comment.trim()) return setError(t('review.reject_reason_required'));
    setBusy(true);
    setError(null);
    try {
      await api(`/reviews/${cr.id}/${approve ? 'approve' : 'reject'}`, { method: 'POST', body: comment ? { comment } : {} });
      message.success(t(approve ? 'review.approved_ok' : 'review.rejected_ok'));
      onDone();
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };
  const step = cr.steps === 1 ? 'review.step_single' : cr.status === 'pending' ? 'review.step_first' : 'review.step_final';
  return (
    <Card size="small" title={`${t('review.step')}：${t(step)}`}>
      <Space direction="vertical" style={{ width: '100%' }}>
        {error && <Alert type="error" showIcon message={error} />}
        <label htmlFor="review-comment">{t('review.comment')}</label>
        <Input.TextArea id="review-comment" rows={3} maxLength={2000} value={comment} onChange={(e) => setComment(e.target.value)} />
        <Space>
          <Button type="primary" loading={busy} onClick={() => decide(true)}>{t('review.approve')}</Button>
          <Button danger loading={busy} onClick={() => decide(false)}>{t('review.reject')}</Button>
        </Space>
      </Space>
    </Card>
  );
}

/** 审核: staff records (初审/终审), role changes and menu-permission grants (菜单权限审核). */
export function Reviews() {
  const { t } = useI18n();
  const { me, entity } = useSession();
  const { message } = App.useApp();
  const labels = useLabels();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'todo';
  const [items, setItems] = useState<ChangeRequest[]>([]);
  const [loading, setLoading] = useState(false);
  const [open, setOpen] = useState<ChangeRequest | null>(null);

  const load = useCallback(() => {
    setLoading(true);
    api<{ items: ChangeRequest[] }>('/reviews').then((r) => setItems(r.items), (e) => message.error(errorText(e, t))).finally(() => setLoading(false));
  }, [message, t]);
  useEffect(load, [load]);
  useLiveEvent('review.changed', load);

  const shown = useMemo(() => {
    if (tab === 'todo') return items.filter((r) => r.can_decide);
    if (tab === 'mine') return items.filter((r) => r.submitted_by === me?.id);
    return items;
  }, [items, tab, me]);

  const title = (cr: ChangeRequest) => `#${cr.id} · ${labels.kind(cr)} · ${labels.action(cr.action)}`;
  return (
    <PageContainer title={t('review.title')}>
      <Card>
        <Tabs activeKey={tab} onChange={(k) => setParams({ tab: k })}
          items={[
            { key: 'todo', label: `${t('review.tab_todo')} (${items.filter((r) => r.can_decide).length})` },
            { key: 'mine', label: t('review.tab_mine') },
            { key: 'all', label: t('review.tab_all') },
          ]} />
        <Table<ChangeRequest> rowKey="id" size="middle" loading={loading} dataSource={shown} locale={{ emptyText: t('review.empty') }}
          onRow={(r) => ({ onClick: () => setOpen(r), style: { cursor: 'pointer' } })}
          scroll={{ x: 'max-content' }}
          columns={[
            { title: t('review.id'), dataIndex: 'id', width: 90, render: (id, r) => <a data-request={id} onClick={() => setOpen(r)}>#{id}</a> },
            { title: t('review.kind'), key: 'kind', render: (_, r) => labels.kind(r) },
            { title: t('review.action'), dataIndex: 'action', render: (a) => labels.action(a) },
            { title: t('review.status'), key: 'status', render: (_, r) => <Tag color={STATUS_COLOR[r.status]}>{labels.status(r)}</Tag> },
            { title: t('review.org'), dataIndex: 'org_id', render: (v) => <OrgName id={v} /> },
            { title: t('review.submitted_by'), dataIndex: 'submitted_by', render: (v, r) => <StaffName id={v} name={r.submitted_by_name} /> },
            { title: t('review.submitted_at'), dataIndex: 'submitted_at', render: (v) => formatTime(v) },
          ]} />
      </Card>
      <Drawer open={!!open} width={720} title={open ? title(open) : ''} onClose={() => setOpen(null)} destroyOnClose>
        {open && (
          <Space direction="vertical" style={{ width: '100%' }} size="middle">
            <Card size="small" title={t('review.changes')}>
              <Changes cr={open} meta={entity(open.kind)} />
            </Card>
            <Card size="small" title={t('review.trail')}>
              <Timeline items={[
                { children: <><StaffName id={open.submitted_by} name={open.submitted_by_name} /> · {formatTime(open.submitted_at)}</> },
                ...(open.first_by ? [{ color: 'blue', children: <>{t(open.steps === 1 ? 'review.step_single' : 'review.step_first')}：<StaffName id={open.first_by} name={open.first_by_name} /> · {formatTime(open.first_at)} {open.first_comment}</> }] : []),
                ...(open.final_by ? [{ color: 'green', children: <>{t('review.step_final')}：<StaffName id={open.final_by} name={open.final_by_name} /> · {formatTime(open.final_at)} {open.final_comment}</> }] : []),
                { color: STATUS_COLOR[open.status], children: labels.status(open) },
              ]} />
            </Card>
            {open.can_decide && <Decision cr={open} onDone={() => { setOpen(null); load(); }} />}
          </Space>
        )}
      </Drawer>
    </PageContainer>
  );
}
