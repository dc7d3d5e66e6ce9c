import { useState } from 'react';
import { Alert, App, Button, Modal, Radio, Space, Table, Typography } from 'antd';
import { ApiError, api } from '../api/client';
import type { EntityMeta } from '../api/types';
import { useI18n, type MessageKey } from '../i18n';
import { errorText } from './errors';

interface RowError { row: number; field: string; code: string; message: string }
interface ImportOutcome { written: number; submitted: number; rejected: number; errors: RowError[] }

/** CSV import with kefud's per-row problems shown in a table (nothing is written unless asked). */
export function ImportDialog({ meta, onClose }: { meta: EntityMeta; onClose: (changed: boolean) => void }) {
  const { t, pick, fieldLabel } = useI18n();
  const { message } = App.useApp();
  const [mode, setMode] = useState<'all' | 'valid'>('all');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ImportOutcome | null>(null);
  const [changed, setChanged] = useState(false);

  const label = (name: string) => {
    const f = meta.fields.find((x) => x.name === name);
    return f ? fieldLabel(f) : name;
  };
  const problem = (e: RowError) => {
    const key = `error.${e.code}` as MessageKey;
    return t(key) !== key ? t(key, { field: label(e.field) }) : e.message;
  };

  const run = async () => {
    if (!file) return;
    setBusy(true);
    try {
      const out = await api<ImportOutcome>(`/${meta.name}/import`, {
        method: 'POST', rawBody: await file.text(), contentType: 'text/csv', query: { mode },
      });
      setOutcome(out);
      if (out.written || out.submitted) setChanged(true);
      message.success(t('import.result', { written: out.written, submitted: out.submitted, rejected: out.rejected }));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'import_rejected' && err.body) setOutcome(err.body as unknown as ImportOutcome);
      else message.error(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal open width={760} title={t('import.title', { entity: pick(meta.label_zh, meta.label_en) })}
      onCancel={() => onClose(changed)} footer={null} destroyOnClose>
      <Space direction="vertical" style={{ width: '100%' }}>
        <Typography.Paragraph type="secondary">{t('import.hint')}</Typography.Paragraph>
        <Radio.Group value={mode} onChange={(e) => setMode(e.target.value)}>
          <Radio value="all">{t('import.mode_all')}</Radio>
          <Radio value="valid">{t('import.mode_valid')}</Radio>
        </Radio.Group>
        <label>
          {t('import.choose')}{' '}
          <input type="file" accept=".csv,text/csv" aria-label={t('import.choose')} onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <Button type="primary" disabled={!file} loading={busy} onClick={run}>{t('import.submit')}</Button>
        {outcome && outcome.errors.length > 0 && (
          <>
            <Alert type={outcome.written ? 'warning' : 'error'} showIcon
              message={outcome.written || outcome.submitted
                ? t('import.result', { written: outcome.written, submitted: outcome.submitted, rejected: outcome.rejected })
                : t('import.rejected', { count: outcome.errors.length })} />
            <Table<RowError> size="small" rowKey={(e) => `${e.row}:${e.field}:${e.code}`} dataSource={outcome.errors}
              pagination={{ pageSize: 10 }}
              columns={[
                { title: t('import.row'), dataIndex: 'row', width: 80 },
                { title: t('import.field'), dataIndex: 'field', width: 160, render: (f: string) => label(f) },
                { title: t('import.problem'), key: 'problem', render: (_, e) => problem(e) },
              ]} />
          </>
        )}
      </Space>
    </Modal>
  );
}
