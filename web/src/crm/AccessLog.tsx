import { useCallback, useEffect, useState } from 'react';
import { App as AntApp, Button, Card, DatePicker, InputNumber, Space, Table, Tag, Typography } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import dayjs, { type Dayjs } from 'dayjs';
import { api } from '../api/client';
import { errorText } from '../entity/errors';
import { useI18n, type MessageKey } from '../i18n';

interface Access {
  id: number; at: number; actor_name: string; client_ip: string; action: string;
  detail: { basis?: string; what?: string; reason?: string; fields?: string[]; misses?: number };
}
interface Emergency {
  id: number; at: number; until_at: number; reason: string; customer_id: number; customer_name: string;
  username: string; staff_name: string; openings: number;
}

/**
 * 客户信息访问记录 (compliance): who opened a customer's file outside his data scope, when and on
 * what basis — his call, chat or e-mail, or an emergency with its reason — and the day's
 * emergency openings (紧急查询日报).
 */
export function AccessLog() {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  const [customer, setCustomer] = useState<number | null>(null);
  const [items, setItems] = useState<Access[] | null>(null);
  // The report's days are China's (UTC+8), whatever the browser's zone: after 16:00 UTC it is
  // already tomorrow there.
  const [day, setDay] = useState<Dayjs>(dayjs(new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10)));
  const [report, setReport] = useState<Emergency[]>([]);
  const look = () => {
    if (!customer) return;
    api<{ items: Access[] }>(`/crm/customers/${customer}/access-log`).then((r) => setItems(r.items), (e) => {
      setItems(null);
      message.error(errorText(e, t));
    });
  };
  const loadReport = useCallback(() => {
    api<{ items: Emergency[] }>('/crm/emergency-access', { query: { date: day.format('YYYY-MM-DD') } })
      .then((r) => setReport(r.items), (e) => message.error(errorText(e, t)));
  }, [day, message, t]);
  useEffect(loadReport, [loadReport]);
  const time = (x: number) => new Date(x).toLocaleString();
  const basis = (a: Access) => {
    const b = a.detail.basis ?? '';
    const [kind, id] = b.split(':');
    return kind ? `${t(`crm.access.basis.${kind}` as MessageKey)} ${id}` : '—';
  };
  return (
    <PageContainer title={t('crm.access')}>
      <Card size="small" title={t('crm.access.history')}>
        <Space>
          <InputNumber min={1} placeholder={t('crm.access.customer_id')} value={customer} onChange={setCustomer}
            data-testid="access-customer" style={{ width: 200 }} />
          <Button type="primary" onClick={look} data-testid="access-look">{t('crm.access.look')}</Button>
        </Space>
        {items && (
          <Table<Access> size="small" rowKey="id" dataSource={items} pagination={{ pageSize: 20 }} style={{ marginTop: 12 }}
            data-testid="access-log"
            columns={[
              { title: t('crm.access.at'), dataIndex: 'at', render: time },
              { title: t('crm.access.who'), dataIndex: 'actor_name' },
              { title: t('crm.access.action'), dataIndex: 'action', render: (x: string) => <Tag>{t(`crm.access.action.${x}` as MessageKey)}</Tag> },
              { title: t('crm.access.basis'), render: (_, a) => basis(a) },
              { title: t('crm.access.what'), render: (_, a) => a.detail.reason ?? a.detail.what ?? a.detail.fields?.join(', ') ?? '' },
              { title: 'IP', dataIndex: 'client_ip' },
            ]} />
        )}
      </Card>
      <Card size="small" title={t('crm.access.emergencies')} style={{ marginTop: 16 }}
        extra={<DatePicker value={day} onChange={(d) => d && setDay(d)} allowClear={false} data-testid="emergency-day" />}>
        <Typography.Paragraph type="secondary">{t('crm.access.emergencies.hint')}</Typography.Paragraph>
        <Table<Emergency> size="small" rowKey="id" dataSource={report} pagination={false} data-testid="emergency-report"
          columns={[
            { title: t('crm.access.at'), dataIndex: 'at', render: time },
            { title: t('crm.access.who'), render: (_, e) => `${e.staff_name} (${e.username})` },
            { title: t('crm.access.customer'), render: (_, e) => `${e.customer_name} #${e.customer_id}` },
            { title: t('crm.access.reason'), dataIndex: 'reason' },
            { title: t('crm.access.until'), dataIndex: 'until_at', render: time },
            { title: t('crm.access.openings'), dataIndex: 'openings' },
          ]} />
      </Card>
    </PageContainer>
  );
}
