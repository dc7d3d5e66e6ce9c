import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { App as AntApp, Button, Descriptions, Form, Input, Modal, Radio, Space, Tag, Typography } from 'antd';
import { api } from '../api/client';
import { errorText } from '../entity/errors';
import { useI18n, type MessageKey } from '../i18n';
import { TIER_COLORS, type Customer, type ScreenPop as Pop } from './api';

/**
 * 客户信息同步: who is calling. Shown in the desk's incoming-call area as soon as a call is offered:
 * the customer's tier, risk level, branch and last contacts; several customers on one number let
 * the agent pick; an unknown caller becomes a potential customer in one step.
 */
export function ScreenPop({ number }: { number: string }) {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  const [pop, setPop] = useState<Pop | null>(null);
  const [picked, setPicked] = useState<number | null>(null);
  const [creating, setCreating] = useState(false);
  const [form] = Form.useForm();
  const load = useCallback(() => {
    api<Pop>('/crm/screen-pop', { query: { phone: number } }).then((p) => {
      setPop(p);
      setPicked(p.customers.length ? p.customers[0].id : null);
    }, () => setPop({ customers: [] }));
  }, [number]);
  useEffect(load, [load]);
  if (!pop) return null;
  const chosen: Customer | undefined = pop.customers.find((c) => c.id === picked);
  return (
    <div data-testid="screen-pop">
      {pop.list && (
        <Tag color={pop.list.list === 'red' ? 'red' : 'black'} data-testid="pop-list">
          {t(`crm.list.${pop.list.list}` as MessageKey)}{pop.list.reason ? ` · ${pop.list.reason}` : ''}
        </Tag>
      )}
      {pop.customers.length === 0 ? (
        <Space>
          <Typography.Text type="secondary" data-testid="pop-unknown">{t('crm.pop.unknown')}</Typography.Text>
          <Button size="small" onClick={() => setCreating(true)} data-testid="pop-create">{t('crm.pop.create')}</Button>
        </Space>
      ) : (
        <>
          {pop.customers.length > 1 && (
            <Radio.Group value={picked} onChange={(e) => setPicked(e.target.value)} data-testid="pop-pick"
              options={pop.customers.map((c) => ({ value: c.id, label: c.name }))} />
          )}
          {chosen && (
            <Descriptions column={2} size="small" style={{ marginTop: 4 }}>
              <Descriptions.Item label={t('crm.name')}>
                <Link to={`/crm/customers/${chosen.id}`} data-testid="pop-name">{chosen.name}</Link>
              </Descriptions.Item>
              <Descriptions.Item label={t('crm.tier')}>
                <Tag color={TIER_COLORS[chosen.tier]} data-testid="pop-tier">{chosen.tier_label}</Tag>
              </Descriptions.Item>
              <Descriptions.Item label={t('crm.risk_level')}>
                {chosen.risk_level ?? '-'}
                {chosen.risk_expired && <Tag color="red" style={{ marginLeft: 4 }}>{t('crm.risk_expired')}</Tag>}
              </Descriptions.Item>
              <Descriptions.Item label={t('crm.status')}>{t(`crm.status.${chosen.status}` as MessageKey)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.fund_account')}>{chosen.fund_account ?? '-'}</Descriptions.Item>
              <Descriptions.Item label={t('crm.org')}>{chosen.org_name || '-'}</Descriptions.Item>
              <Descriptions.Item label={t('crm.tags')} span={2}>{chosen.tags.map((x) => <Tag key={x}>{x}</Tag>)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.last_contacts')} span={2}>
                {(chosen.last_contacts ?? []).length === 0 ? '-' : (chosen.last_contacts ?? []).slice(0, 3).map((k) => (
                  <div key={k.id}>{new Date(k.at).toLocaleString()} · {t(`crm.channel.${k.channel}` as MessageKey)} · {k.summary}</div>
                ))}
              </Descriptions.Item>
            </Descriptions>
          )}
        </>
      )}
      <Modal open={creating} title={t('crm.pop.create')} onCancel={() => setCreating(false)} destroyOnClose
        onOk={async () => {
          const v = await form.validateFields();
          try {
            await api('/crm/customers', { method: 'POST', body: { name: v.name, status: 'potential', phones: [number] } });
            setCreating(false);
            message.success(t('crm.saved'));
            load();
          } catch (e) {
            message.error(errorText(e, t));
          }
        }}>
        <Form form={form} layout="vertical">
          <Form.Item label={t('crm.phones')}><Input value={number} disabled /></Form.Item>
          <Form.Item name="name" label={t('crm.name')} rules={[{ required: true, max: 60 }]}>
            <Input data-testid="pop-create-name" />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
