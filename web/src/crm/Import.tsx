import { useState } from 'react';
import { App as AntApp, Alert, Button, Card, Input, Radio, Space, Steps, Table, Typography, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { PageContainer } from '@ant-design/pro-components';
import { api, ApiError } from '../api/client';
import { errorText } from '../entity/errors';
import { useI18n } from '../i18n';
import type { ImportResult } from './api';

interface RowError { row: number; field: string; code: string; message: string }

/**
 * 客户导入: a CSV from the trading counter or the CRM (field names or the console's Chinese
 * headers), upserted by 外部编号. The batch key makes a re-sent file harmless.
 */
export function CustomerImport() {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState('');
  const [mode, setMode] = useState<'valid' | 'all'>('valid');
  const [batchKey, setBatchKey] = useState(() => `import-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [rejected, setRejected] = useState<RowError[] | null>(null);
  const [busy, setBusy] = useState(false);
  const step = result || rejected ? 2 : text ? 1 : 0;

  const send = async () => {
    setBusy(true);
    setResult(null);
    setRejected(null);
    try {
      setResult(await api<ImportResult>('/crm/imports', { method: 'POST', rawBody: text, contentType: 'text/csv', query: { batch_key: batchKey, mode } }));
    } catch (e) {
      const err = e as { code?: string; details?: { field: string; code: string; message: string }[] };
      if (err.code === 'import_rejected' && err.details) {
        setRejected(err.details.map((d) => {
          const m = /^rows\[(\d+)\]\.?(.*)$/.exec(d.field);
          return { row: m ? Number(m[1]) : 0, field: m ? m[2] : d.field, code: d.code, message: d.message };
        }));
      } else message.error(errorText(e, t));
    } finally {
      setBusy(false);
    }
  };
  const errors: RowError[] = rejected ?? result?.errors ?? [];
  return (
    <PageContainer title={t('crm.import')}>
      <Card size="small">
        <Steps size="small" current={step} style={{ marginBottom: 16 }}
          items={[{ title: t('crm.import.step_file') }, { title: t('crm.import.step_check') }, { title: t('crm.import.step_result') }]} />
        <Space direction="vertical" style={{ width: '100%' }}>
          <Typography.Text type="secondary">{t('crm.import.hint')}</Typography.Text>
          <Upload accept=".csv,text/csv" maxCount={1} showUploadList={false}
            beforeUpload={(f) => { f.text().then((s) => { setText(s); setFileName(f.name); }); return false; }}>
            <Button icon={<UploadOutlined />}>{fileName || t('crm.import.choose')}</Button>
          </Upload>
          <Input.TextArea rows={8} value={text} onChange={(e) => setText(e.target.value)} data-testid="import-text"
            placeholder="外部编号,客户名称,电话,营业部代码,风险测评等级" />
          <Space wrap>
            <Input addonBefore={t('crm.import.batch_key')} value={batchKey} onChange={(e) => setBatchKey(e.target.value)} style={{ width: 340 }} />
            <Radio.Group value={mode} onChange={(e) => setMode(e.target.value)}>
              <Radio value="valid">{t('crm.import.mode_valid')}</Radio>
              <Radio value="all" data-testid="mode-all">{t('crm.import.mode_all')}</Radio>
            </Radio.Group>
            <Button type="primary" loading={busy} disabled={!text.trim()} onClick={send} data-testid="import-send">{t('crm.import.send')}</Button>
          </Space>
        </Space>
      </Card>
      {result && (
        <Alert style={{ marginTop: 16 }} type={result.failed ? 'warning' : 'success'} showIcon data-testid="import-summary"
          message={t(result.replayed ? 'crm.import.replayed' : 'crm.import.done', { inserted: result.inserted, updated: result.updated, failed: result.failed })} />
      )}
      {rejected && <Alert style={{ marginTop: 16 }} type="error" showIcon message={t('crm.import.rejected', { n: rejected.length })} data-testid="import-rejected" />}
      {errors.length > 0 && (
        <Table<RowError> style={{ marginTop: 16 }} size="small" rowKey={(r) => `${r.row}-${r.field}-${r.code}`} dataSource={errors}
          data-testid="import-errors" pagination={{ pageSize: 20 }}
          columns={[
            { title: t('crm.import.row'), dataIndex: 'row', width: 80 },
            { title: t('crm.import.field'), dataIndex: 'field' },
            { title: t('crm.import.code'), dataIndex: 'code' },
            { title: t('crm.import.message'), render: (_, r) => errorText(new ApiError(422, r.code, r.message, r.field), t, r.field) },
          ]} />
      )}
    </PageContainer>
  );
}
