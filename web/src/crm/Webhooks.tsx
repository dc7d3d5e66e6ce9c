import { useCallback, useEffect, useState } from 'react';
import { App as AntApp, Button, Form, Input, InputNumber, Modal, Radio, Switch, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { PageContainer } from '@ant-design/pro-components';
import { api } from '../api/client';
import { applyFieldErrors } from '../entity/errors';
import { useI18n } from '../i18n';
import type { Webhook } from './api';

interface HookForm { name: string; url: string; secret?: string; start?: 'now' | 'beginning'; enabled?: boolean; after?: number }

/**
 * 客户变更推送: webhooks that push every customer change to an external CRM, signed, in order, at
 * least once. The table shows each one's cursor, lag and last delivery; it refreshes itself.
 */
export function CustomerWebhooks() {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  const [items, setItems] = useState<Webhook[]>([]);
  const [editing, setEditing] = useState<Webhook | 'new' | null>(null);
  const [form] = Form.useForm<HookForm>();
  const load = useCallback(() => api<{ items: Webhook[] }>('/crm/webhooks').then((r) => setItems(r.items), () => undefined), []);
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [load]);

  const open = (h: Webhook | 'new') => {
    setEditing(h);
    form.resetFields();
    if (h === 'new') form.setFieldsValue({ start: 'now', enabled: true });
    else form.setFieldsValue({ name: h.name, url: h.url, enabled: h.enabled, after: h.after_id });
  };
  const save = async () => {
    const v = await form.validateFields();
    if (v.after === null) delete v.after;
    try {
      if (editing === 'new') await api('/crm/webhooks', { method: 'POST', body: v });
      else if (editing) {
        const body: Record<string, unknown> = { version: editing.version, name: v.name, url: v.url, enabled: v.enabled };
        if (v.secret) body.secret = v.secret;
        if (v.after !== undefined && v.after !== editing.after_id) body.after = v.after;
        await api(`/crm/webhooks/${editing.id}`, { method: 'PUT', body });
      }
      message.success(t('crm.webhook.saved'));
      setEditing(null);
      load();
    } catch (e) {
      const labels: Record<string, string> = { name: t('crm.webhook.name'), url: 'URL', secret: t('crm.webhook.secret'), after: t('crm.webhook.cursor') };
      applyFieldErrors(form, e, t, (n) => labels[n], ['name', 'url', 'secret', 'start', 'after', 'enabled']).forEach((m) => message.error(m));
    }
  };
  const time = (x: number | null) => (x ? new Date(x).toLocaleString() : '—');
  return (
    <PageContainer title={t('crm.webhooks')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => open('new')} data-testid="webhook-new">{t('crm.webhook.new')}</Button>}>
      <Typography.Paragraph type="secondary">{t('crm.webhook.hint')}</Typography.Paragraph>
      <Table<Webhook> size="small" rowKey="id" dataSource={items} pagination={false} data-testid="webhooks"
        columns={[
          { title: t('crm.webhook.name'), dataIndex: 'name', render: (x: string, h) => <a onClick={() => open(h)}>{x}</a> },
          { title: 'URL', dataIndex: 'url', ellipsis: true },
          { title: t('crm.webhook.enabled'), dataIndex: 'enabled', width: 90, render: (x: boolean) => (x ? <Tag color="green">{t('crm.webhook.on')}</Tag> : <Tag>{t('crm.webhook.off')}</Tag>) },
          { title: t('crm.webhook.cursor'), dataIndex: 'after_id', width: 100 },
          { title: t('crm.webhook.lag'), dataIndex: 'lag', width: 90, render: (x: number) => <span data-testid="webhook-lag">{x}</span> },
          { title: t('crm.webhook.delivered'), dataIndex: 'delivered', width: 100 },
          { title: t('crm.webhook.last'), key: 'last', render: (_, h) => (h.last_status ? (
            <span>{h.last_status >= 200 && h.last_status < 300 ? <Tag color="green">{h.last_status}</Tag> : <Tag color="red">{h.last_status}</Tag>} {time(h.last_attempt_at)}</span>
          ) : h.last_error ? <Tag color="red">{t('crm.webhook.unreachable')}</Tag> : '—') },
          { title: t('crm.webhook.failures'), dataIndex: 'failures', width: 90, render: (x: number, h) => (x ? <Typography.Text type="danger" title={h.last_error ?? ''}>{x}</Typography.Text> : 0) },
          { title: t('crm.webhook.last_ok'), dataIndex: 'last_delivered_at', render: time },
        ]} />
      <Modal open={editing !== null} title={editing === 'new' ? t('crm.webhook.new') : t('crm.webhook.edit')} onOk={save} onCancel={() => setEditing(null)} destroyOnClose forceRender>
        <Form form={form} layout="vertical">
          <Form.Item name="name" label={t('crm.webhook.name')} rules={[{ required: true }]}><Input maxLength={60} /></Form.Item>
          <Form.Item name="url" label="URL" rules={[{ required: true }]}><Input placeholder="https://crm.example.com/kefu/changes" /></Form.Item>
          <Form.Item name="secret" label={t('crm.webhook.secret')} extra={t('crm.webhook.secret_hint')}
            rules={editing === 'new' ? [{ required: true }, { min: 16 }] : [{ min: 16 }]}>
            <Input.Password autoComplete="new-password" placeholder={editing !== 'new' ? t('crm.webhook.secret_keep') : ''} />
          </Form.Item>
          {editing === 'new' ? (
            <Form.Item name="start" label={t('crm.webhook.start')}>
              <Radio.Group><Radio value="now">{t('crm.webhook.start_now')}</Radio><Radio value="beginning">{t('crm.webhook.start_beginning')}</Radio></Radio.Group>
            </Form.Item>
          ) : (
            <Form.Item name="after" label={t('crm.webhook.cursor')} extra={t('crm.webhook.after_hint')}><InputNumber min={0} style={{ width: 200 }} /></Form.Item>
          )}
          <Form.Item name="enabled" label={t('crm.webhook.enabled')} valuePropName="checked"><Switch /></Form.Item>
        </Form>
      </Modal>
    </PageContainer>
  );
}
