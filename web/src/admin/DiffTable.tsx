import { Table, Typography } from 'antd';
import { useI18n } from '../i18n';
import { useSession } from '../session';

function show(v: unknown) {
  if (v === null || v === undefined) return <Typography.Text type="secondary">-</Typography.Text>;
  return typeof v === 'object' ? <Typography.Text code>{JSON.stringify(v)}</Typography.Text> : String(v);
}

/** The before/after of an operation-log entry ({field: {from, to}}), or its raw detail. */
export function DiffTable({ diff, entity }: { diff: Record<string, unknown> | null; entity?: string }) {
  const { t, fieldLabel } = useI18n();
  const { entity: find } = useSession();
  if (!diff) return null;
  const entries = Object.entries(diff);
  const isDiff = entries.length > 0 && entries.every(([, v]) => v !== null && typeof v === 'object' && 'to' in (v as object));
  if (!isDiff) return <Typography.Text code style={{ whiteSpace: 'pre-wrap' }}>{JSON.stringify(diff, null, 2)}</Typography.Text>;
  const meta = entity ? find(entity) : undefined;
  const label = (name: string) => {
    const f = meta?.fields.find((x) => x.name === name);
    return f ? fieldLabel(f) : name;
  };
  return (
    <Table
      size="small"
      pagination={false}
      rowKey="field"
      dataSource={entries.map(([field, v]) => ({ field, ...(v as { from: unknown; to: unknown }) }))}
      columns={[
        { title: t('review.field'), dataIndex: 'field', width: 180, render: (f: string) => label(f) },
        { title: t('audit.before'), dataIndex: 'from', render: show },
        { title: t('audit.after'), dataIndex: 'to', render: show },
      ]}
    />
  );
}
