import { useCallback, useEffect, useState, type ComponentType } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { App, Button, Card, Descriptions, Popconfirm, Result, Space, Spin, Table, Tag } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import { api } from '../api/client';
import type { AuditEntry, EntityMeta, Rec } from '../api/types';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { Forbidden } from '../pages/Status';
import { StaffPanel } from '../admin/StaffPanel';
import { DiffTable } from '../admin/DiffTable';
import { EntityForm, type SaveResult } from './EntityForm';
import { EntityList } from './EntityList';
import { errorText } from './errors';
import { FieldValue, formatTime } from './fields';
import { forgetTitles, titleOf } from './refs';

// Extra sections on a detail page for entities that have more than fields (roles, passwords).
const panels: Record<string, ComponentType<{ record: Rec; reload: () => void }>> = {
  staff: StaffPanel,
};

function useEntityParam(): EntityMeta | undefined {
  const { entity } = useParams();
  const { entity: find } = useSession();
  return find(entity ?? '');
}

function useRecord(meta: EntityMeta | undefined, id: string | undefined) {
  const [record, setRecord] = useState<Rec | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    if (!meta || !id) return;
    setError(null);
    api<Rec>(`/${meta.name}/${id}`).then(setRecord, setError);
  }, [meta, id]);
  useEffect(load, [load]);
  return { record, error, reload: load };
}

export function EntityListPage() {
  const meta = useEntityParam();
  if (!meta) return <Forbidden />;
  return (
    <PageContainer title={false}>
      <EntityList key={meta.name} meta={meta} />
    </PageContainer>
  );
}

function afterSave(navigate: ReturnType<typeof useNavigate>, meta: EntityMeta) {
  return (r: SaveResult) => {
    forgetTitles(meta.name);
    if ('record' in r) navigate(`/e/${meta.name}/${r.record.id}`);
    else navigate(`/e/${meta.name}`);
  };
}

export function EntityCreatePage() {
  const meta = useEntityParam();
  const navigate = useNavigate();
  const { t, pick } = useI18n();
  if (!meta || !meta.actions.includes('create')) return <Forbidden />;
  return (
    <PageContainer title={`${t('common.create')} · ${pick(meta.label_zh, meta.label_en)}`} onBack={() => navigate(-1)}>
      <Card>
        <EntityForm meta={meta} onSaved={afterSave(navigate, meta)} onCancel={() => navigate(-1)} />
      </Card>
    </PageContainer>
  );
}

export function EntityEditPage() {
  const meta = useEntityParam();
  const { id } = useParams();
  const navigate = useNavigate();
  const { t, pick } = useI18n();
  const { record, error } = useRecord(meta, id);
  if (!meta || !meta.actions.includes('update')) return <Forbidden />;
  if (error) return <Result status="404" subTitle={errorText(error, t)} />;
  if (!record) return <Spin />;
  return (
    <PageContainer title={`${t('common.edit')} · ${pick(meta.label_zh, meta.label_en)} · ${titleOf(meta, record)}`} onBack={() => navigate(-1)}>
      <Card>
        <EntityForm meta={meta} record={record} onSaved={afterSave(navigate, meta)} onCancel={() => navigate(-1)} />
      </Card>
    </PageContainer>
  );
}

/** The operation-log entries of one record, for those who may read the log. */
export function RecordHistory({ entity, id }: { entity: string; id: number }) {
  const { t } = useI18n();
  const [items, setItems] = useState<AuditEntry[]>([]);
  useEffect(() => {
    api<{ items: AuditEntry[] }>('/audit', { query: { entity, entity_id: id, page_size: 50 } }).then((r) => setItems(r.items), () => setItems([]));
  }, [entity, id]);
  return (
    <Table<AuditEntry>
      size="small"
      rowKey="id"
      dataSource={items}
      pagination={false}
      expandable={{ expandedRowRender: (e) => <DiffTable diff={e.diff} entity={entity} />, rowExpandable: (e) => !!e.diff }}
      columns={[
        { title: t('audit.at'), dataIndex: 'at', render: (v) => formatTime(v), width: 180 },
        { title: t('audit.actor'), dataIndex: 'actor_name', width: 140 },
        { title: t('audit.action'), dataIndex: 'action', render: (v) => <Tag>{v}</Tag> },
      ]}
    />
  );
}

export function EntityDetailPage() {
  const meta = useEntityParam();
  const { id } = useParams();
  const navigate = useNavigate();
  const { t, pick, fieldLabel } = useI18n();
  const { message } = App.useApp();
  const { has } = useSession();
  const { record, error, reload } = useRecord(meta, id);
  if (!meta) return <Forbidden />;
  if (error) return <Result status="404" subTitle={errorText(error, t)} extra={<Link to={`/e/${meta.name}`}>{t('common.back')}</Link>} />;
  if (!record) return <Spin />;
  const Panel = panels[meta.name];
  const archive = async () => {
    try {
      const out = await api<{ change_request?: { id: number } }>(`/${meta.name}/${record.id}`, { method: 'DELETE', query: { version: record.version } });
      if (out?.change_request) message.success(t('common.submitted_for_review', { id: out.change_request.id }));
      else message.success(t('common.archived_ok'));
      navigate(`/e/${meta.name}`);
    } catch (err) {
      message.error(errorText(err, t));
    }
  };
  return (
    <PageContainer
      title={`${pick(meta.label_zh, meta.label_en)} · ${titleOf(meta, record)}`}
      onBack={() => navigate(`/e/${meta.name}`)}
      tags={record.archived ? <Tag color="red">{t('common.archived')}</Tag> : undefined}
      extra={
        <Space>
          {meta.actions.includes('update') && !record.archived && (
            <Button type="primary" onClick={() => navigate(`/e/${meta.name}/${record.id}/edit`)}>{t('common.edit')}</Button>
          )}
          {meta.actions.includes('archive') && !record.archived && (
            <Popconfirm title={t('common.confirm_archive')} onConfirm={archive}>
              <Button danger>{t('common.archive')}</Button>
            </Popconfirm>
          )}
        </Space>
      }
    >
      <Space direction="vertical" style={{ width: '100%' }} size="middle">
        <Card title={t('common.detail')}>
          <Descriptions bordered size="small" column={{ xs: 1, md: 2, xl: 3 }}>
            {meta.fields.map((f) => (
              <Descriptions.Item key={f.name} label={fieldLabel(f)}>
                <FieldValue field={f} value={record[f.name]} />
              </Descriptions.Item>
            ))}
            <Descriptions.Item label={t('common.id')}>{record.id}</Descriptions.Item>
            <Descriptions.Item label={t('common.version')}>{record.version}</Descriptions.Item>
            <Descriptions.Item label={t('common.updated_at')}>{formatTime(record.updated_at)}</Descriptions.Item>
          </Descriptions>
        </Card>
        {Panel && <Panel record={record} reload={reload} />}
        {has('audit:read') && (
          <Card title={t('common.history')}>
            <RecordHistory entity={meta.name} id={record.id} />
          </Card>
        )}
      </Space>
    </PageContainer>
  );
}
