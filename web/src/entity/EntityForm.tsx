import { useMemo, useState } from 'react';
import { Alert, App, Button, Col, Form, Row, Space } from 'antd';
import { api } from '../api/client';
import type { ChangeRequest, EntityMeta, FieldMeta, Rec } from '../api/types';
import { useI18n } from '../i18n';
import { applyFieldErrors, fieldLabeler } from './errors';
import { FieldInput } from './fields';
import { widgetFor } from './widgets';

export type SaveResult = { record: Rec } | { change_request: ChangeRequest };

function editable(meta: EntityMeta): FieldMeta[] {
  return meta.fields.filter((f) => !f.readonly);
}

function initialValues(meta: EntityMeta, record?: Rec, preset?: Record<string, unknown>) {
  const v: Record<string, unknown> = {};
  for (const f of editable(meta)) {
    if (record) v[f.name] = record[f.name];
    else if (f.default !== undefined) v[f.name] = f.default;
  }
  return { ...v, ...(preset ?? {}) };
}

/**
 * Create or edit form for any registered entity. Fields come from the registry; kefud's
 * per-field errors are shown on the fields. Reviewed entities answer 202 with a change request.
 */
export function EntityForm({
  meta, record, preset, onSaved, onCancel,
}: {
  meta: EntityMeta;
  record?: Rec;
  preset?: Record<string, unknown>;
  onSaved?: (r: SaveResult) => void;
  onCancel?: () => void;
}) {
  const { t, fieldLabel } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string[]>([]);
  const fields = editable(meta);
  const initial = useMemo(() => initialValues(meta, record, preset), [meta, record, preset]);
  const label = fieldLabeler(meta, fieldLabel);

  const submit = async (values: Record<string, unknown>) => {
    setBusy(true);
    setFormError([]);
    try {
      let body: Record<string, unknown> = {};
      if (record) {
        // Send only what changed, with the version read, so concurrent edits are caught (409).
        for (const f of fields) {
          if (JSON.stringify(values[f.name] ?? null) !== JSON.stringify(record[f.name] ?? null)) body[f.name] = values[f.name] ?? null;
        }
        body.version = record.version;
      } else {
        for (const f of fields) if (values[f.name] !== undefined) body[f.name] = values[f.name];
        body = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null && v !== ''));
      }
      const out = record
        ? await api<Rec | { change_request: ChangeRequest }>(`/${meta.name}/${record.id}`, { method: 'PATCH', body })
        : await api<Rec | { change_request: ChangeRequest }>(`/${meta.name}`, { method: 'POST', body });
      const cr = (out as { change_request?: ChangeRequest }).change_request;
      if (cr) {
        message.success(t('common.submitted_for_review', { id: cr.id }));
        onSaved?.({ change_request: cr });
      } else {
        message.success(t('common.saved'));
        onSaved?.({ record: out as Rec });
      }
    } catch (err) {
      setFormError(applyFieldErrors(form, err, t, label, fields.map((f) => f.name)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Form form={form} layout="vertical" initialValues={initial} onFinish={submit} name={`form_${meta.name}`} scrollToFirstError>
      {formError.length > 0 && <Alert type="error" showIcon style={{ marginBottom: 16 }} message={formError.join('；')} />}
      <Row gutter={16}>
        {fields.map((f) => {
          const Widget = widgetFor(meta.name, f.name);
          const wide = f.type === 'text' || f.type === 'json' || Widget !== undefined;
          return (
            <Col key={f.name} xs={24} md={wide ? 24 : 12} xl={wide ? 24 : 8}>
              <Form.Item
                name={f.name}
                label={fieldLabel(f)}
                valuePropName="value"
                rules={f.required && f.type !== 'boolean' ? [{ required: true, message: t('error.required', { field: fieldLabel(f) }) }] : []}
              >
                {Widget ? <Widget field={f} record={record} /> : <FieldInput field={f} />}
              </Form.Item>
            </Col>
          );
        })}
      </Row>
      <Space>
        <Button type="primary" htmlType="submit" loading={busy}>
          {t('common.save')}
        </Button>
        {onCancel && <Button onClick={onCancel}>{t('common.cancel')}</Button>}
      </Space>
    </Form>
  );
}
