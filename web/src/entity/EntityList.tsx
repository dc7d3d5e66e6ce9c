import { useMemo, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { App, Button, Popconfirm } from 'antd';
import { DownloadOutlined, PlusOutlined, UploadOutlined } from '@ant-design/icons';
import { ProTable, type ActionType, type ProColumns } from '@ant-design/pro-components';
import { api, downloadUrl, listPage, type Query } from '../api/client';
import type { EntityMeta, FieldMeta, Rec } from '../api/types';
import { useI18n } from '../i18n';
import { errorText } from './errors';
import { FieldInput, FieldValue } from './fields';
import { ImportDialog } from './ImportDialog';
import { rememberTitles } from './refs';

const VISIBLE_COLUMNS = 8; // what fits beside the actions at 1366×768; the rest via the column chooser

/** Turns the search form's values into kefud list filters (field, field__like, __gte/__lte). */
function toQuery(meta: EntityMeta, values: Record<string, unknown>): Query {
  const q: Query = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === null || v === '') continue;
    if (k === 'q') {
      q.q = String(v);
      continue;
    }
    const f = meta.fields.find((x) => x.name === k);
    if (!f) continue;
    if ((f.type === 'date' || f.type === 'datetime') && Array.isArray(v)) {
      if (v[0]) q[`${k}__gte`] = String(v[0]);
      if (v[1]) q[`${k}__lte`] = String(v[1]);
    } else if ((f.type === 'string' || f.type === 'text') && !f.unique) {
      q[`${k}__like`] = String(v);
    } else {
      q[k] = String(v);
    }
  }
  return q;
}

function column(meta: EntityMeta, f: FieldMeta, label: string, optionLabel: (f: FieldMeta, v: unknown) => string, yesNo: [string, string]): ProColumns<Rec> {
  const c: ProColumns<Rec> = {
    title: label,
    dataIndex: f.name,
    key: f.name,
    sorter: f.sortable,
    ellipsis: f.type === 'text' || f.type === 'json',
    hideInSearch: !(f.filterable || f.unique) || f.type === 'json',
    render: (_, r) => {
      const v = <FieldValue field={f} value={r[f.name]} />;
      return f.name === meta.title_field ? <Link to={`/e/${meta.name}/${r.id}`}>{v}</Link> : v;
    },
  };
  if (f.type === 'enum') {
    c.valueType = 'select';
    c.valueEnum = Object.fromEntries((f.options ?? []).map((o) => [o, { text: optionLabel(f, o) }]));
  } else if (f.type === 'boolean') {
    c.valueType = 'select';
    c.valueEnum = { true: { text: yesNo[0] }, false: { text: yesNo[1] } };
  } else if (f.type === 'date' || f.type === 'datetime') {
    c.valueType = 'dateRange';
  } else if (f.type === 'ref' || f.type === 'dict') {
    c.renderFormItem = () => <FieldInput field={f} />;
  }
  return c;
}

/** List page for any registered entity: filters, sort, paging, column chooser, export, import. */
export function EntityList({ meta }: { meta: EntityMeta }) {
  const { t, pick, fieldLabel, optionLabel } = useI18n();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const action = useRef<ActionType>();
  const lastQuery = useRef<Query>({});
  const [importing, setImporting] = useState(false);
  const can = (a: string) => meta.actions.includes(a as EntityMeta['actions'][number]);

  const columns = useMemo<ProColumns<Rec>[]>(() => {
    const cols: ProColumns<Rec>[] = [];
    if (meta.fields.some((f) => f.searchable)) {
      cols.push({ title: t('common.keyword'), dataIndex: 'q', key: 'q', hideInTable: true });
    }
    for (const f of meta.fields) cols.push(column(meta, f, fieldLabel(f), optionLabel, [t('common.yes'), t('common.no')]));
    cols.push({
      title: t('common.actions'),
      key: 'actions',
      valueType: 'option',
      fixed: 'right',
      width: 150,
      render: (_, r) => [
        <Link key="view" to={`/e/${meta.name}/${r.id}`}>{t('common.view')}</Link>,
        can('update') && <Link key="edit" to={`/e/${meta.name}/${r.id}/edit`}>{t('common.edit')}</Link>,
        can('archive') && !r.archived && (
          <Popconfirm key="archive" title={t('common.confirm_archive')} onConfirm={async () => {
            try {
              const out = await api<{ change_request?: { id: number } }>(`/${meta.name}/${r.id}`, { method: 'DELETE', query: { version: r.version } });
              if (out?.change_request) message.success(t('common.submitted_for_review', { id: out.change_request.id }));
              else message.success(t('common.archived_ok'));
              action.current?.reload();
            } catch (err) {
              message.error(errorText(err, t));
            }
          }}>
            <a>{t('common.archive')}</a>
          </Popconfirm>
        ),
      ],
    });
    return cols;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [meta, t, fieldLabel, optionLabel]);

  const defaultColumnsState = useMemo(() => {
    const state: Record<string, { show: boolean }> = {};
    meta.fields.forEach((f, i) => {
      if (i >= VISIBLE_COLUMNS || f.type === 'json' || f.type === 'text') state[f.name] = { show: false };
    });
    return state;
  }, [meta]);

  const exportTo = (format: 'csv' | 'xlsx') => {
    const a = document.createElement('a');
    a.href = downloadUrl(`/${meta.name}/export`, { ...lastQuery.current, format });
    a.download = `${meta.name}.${format}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
  };

  return (
    <>
      <ProTable<Rec>
        rowKey="id"
        headerTitle={pick(meta.label_zh, meta.label_en)}
        actionRef={action}
        columns={columns}
        scroll={{ x: 'max-content' }}
        size="middle"
        search={{ labelWidth: 'auto', defaultCollapsed: true, searchText: t('common.search'), resetText: t('common.reset') }}
        columnsState={{ persistenceKey: `kefu.columns.${meta.name}`, persistenceType: 'localStorage', defaultValue: defaultColumnsState }}
        options={{ setting: { listsHeight: 400 }, reload: true, density: true }}
        pagination={{ defaultPageSize: 20, showSizeChanger: true, showTotal: (total) => t('common.total', { total }) }}
        request={async (params, sort) => {
          const { current, pageSize, ...filters } = params;
          const q = toQuery(meta, filters);
          const [field, order] = Object.entries(sort ?? {})[0] ?? [];
          q.sort = field ? (order === 'descend' ? `-${field}` : field) : meta.default_sort || undefined;
          lastQuery.current = q;
          try {
            const page = await listPage(meta.name, { ...q, page: current, page_size: pageSize });
            rememberTitles(meta, page.items);
            return { data: page.items, total: page.total, success: true };
          } catch (err) {
            message.error(errorText(err, t));
            return { data: [], total: 0, success: false };
          }
        }}
        toolBarRender={() => [
          can('create') && (
            <Button key="create" type="primary" icon={<PlusOutlined />} onClick={() => navigate(`/e/${meta.name}/new`)}>
              {t('common.create')}
            </Button>
          ),
          can('export') && <Button key="csv" icon={<DownloadOutlined />} onClick={() => exportTo('csv')}>{t('common.export_csv')}</Button>,
          can('export') && <Button key="xlsx" icon={<DownloadOutlined />} onClick={() => exportTo('xlsx')}>{t('common.export_xlsx')}</Button>,
          can('import') && can('create') && (
            <Button key="import" icon={<UploadOutlined />} onClick={() => setImporting(true)}>{t('common.import')}</Button>
          ),
        ].filter(Boolean)}
      />
      {importing && (
        <ImportDialog meta={meta} onClose={(changed) => {
          setImporting(false);
          if (changed) action.current?.reload();
        }} />
      )}
    </>
  );
}

