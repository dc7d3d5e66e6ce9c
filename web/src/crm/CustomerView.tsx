import { useCallback, useEffect, useMemo, useState } from 'react';
import { useParams } from 'react-router-dom';
import { App as AntApp, Button, Card, Col, Descriptions, Form, Input, Modal, Radio, Row, Select, Table, Tag, Timeline, Typography } from 'antd';
import { EyeOutlined } from '@ant-design/icons';
import { PageContainer } from '@ant-design/pro-components';
import { api, ApiError } from '../api/client';
import { errorText } from '../entity/errors';
import { useI18n, type MessageKey } from '../i18n';
import { useSession } from '../session';
import { Chart } from '../pages/Chart';
import { TIER_COLORS, tradeChartOption, yuan, type ContactItem, type Customer, type TradeAnalysis } from './api';

const CHANNELS = ['voice', 'chat', 'email', 'sms', 'ivr', 'ticket', 'campaign', 'survey', 'business', 'note'];

/** The customer's 360° view: profile and accounts, tier history, and his contact history. */
export function CustomerView() {
  const { id } = useParams();
  const { t } = useI18n();
  const { has } = useSession();
  const { message } = AntApp.useApp();
  const [c, setC] = useState<Customer | null>(null);
  const [unmask, setUnmask] = useState(false);
  const [channel, setChannel] = useState<string | undefined>();
  const [contacts, setContacts] = useState<{ items: ContactItem[]; total: number }>({ items: [], total: 0 });
  const [trades, setTrades] = useState<TradeAnalysis | null>(null);
  const [noting, setNoting] = useState(false);
  const [reload, setReload] = useState(0);
  const [noteForm] = Form.useForm();
  // 404: no such customer, or not this user's to serve (the same answer, on purpose).
  const [missing, setMissing] = useState(false);
  const load = useCallback(() => {
    api<Customer>(`/crm/customers/${id}`, { query: { unmask: unmask ? 'true' : undefined } }).then((x) => {
      setMissing(false);
      setC(x);
    }, (e) => {
      if (e instanceof ApiError && e.status === 404) setMissing(true);
      else message.error(errorText(e, t));
    });
  }, [id, unmask, message, t]);
  useEffect(load, [load]);
  useEffect(() => {
    api<{ items: ContactItem[]; total: number }>(`/crm/customers/${id}/contacts`, { query: { channel, page_size: 100 } })
      .then(setContacts, () => undefined);
  }, [id, channel, reload]);
  useEffect(() => {
    api<TradeAnalysis>(`/crm/customers/${id}/trades`, { query: { months: 12 } }).then(setTrades, () => setTrades(null));
  }, [id, reload]);
  const tradeChart = useMemo(() => trades && tradeChartOption(trades, t), [trades, t]);
  if (missing && !c) return <EmergencyAccess id={id!} onOpened={() => { load(); setReload((n) => n + 1); }} />;
  if (!c) return null;
  const label = (key: string, fallback: string) => (t(key as MessageKey) !== key ? t(key as MessageKey) : fallback);
  const v = (x: unknown) => (x === null || x === undefined || x === '' ? '-' : String(x));
  return (
    <PageContainer title={<span data-testid="customer-name">{c.name}</span>}
      tags={<Tag color={TIER_COLORS[c.tier]} data-testid="customer-tier">{c.tier_label}</Tag>}
      extra={has('crm:unmask') && c.masked ? (
        <Button icon={<EyeOutlined />} onClick={() => setUnmask(true)} data-testid="unmask">{t('crm.unmask')}</Button>
      ) : undefined}>
      <Row gutter={16}>
        <Col xs={24} xl={14}>
          <Card size="small" title={t('crm.profile')}>
            <Descriptions column={2} size="small" data-testid="customer-profile">
              <Descriptions.Item label={t('crm.kind')}>{t(`crm.kind.${c.kind}` as MessageKey)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.status')}>{t(`crm.status.${c.status}` as MessageKey)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.id_type')}>{c.id_type ? t(`crm.id_type.${c.id_type}` as MessageKey) : '-'}</Descriptions.Item>
              <Descriptions.Item label={t('crm.id_no')}><span data-testid="customer-id-no">{v(c.id_no)}</span></Descriptions.Item>
              <Descriptions.Item label={t('crm.phones')} span={2}>
                <span data-testid="customer-phones">{c.phones.map((p) => p.number + (p.extension ? `-${p.extension}` : '')).join(', ') || '-'}</span>
              </Descriptions.Item>
              <Descriptions.Item label={t('crm.fund_account')}>{v(c.fund_account)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.sh_account')}>{v(c.sh_account)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.sz_account')}>{v(c.sz_account)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.accounts')} span={2}>
                <span data-testid="customer-accounts">
                  {(c.accounts ?? []).length === 0 ? '-' : (c.accounts ?? []).map((a) => (
                    <Tag key={a.kind + a.number} color={a.status === 'normal' ? undefined : 'red'}>
                      {t(`crm.account.${a.kind}` as MessageKey)} {a.number}{a.institution ? ` · ${a.institution}` : ''}
                      {a.status === 'normal' ? '' : ` · ${t(`crm.account_status.${a.status}` as MessageKey)}`}
                    </Tag>
                  ))}
                </span>
              </Descriptions.Item>
              <Descriptions.Item label={t('crm.risk_level')}>{v(c.risk_level)} {c.risk_expires ? `(${c.risk_expires})` : ''}</Descriptions.Item>
              <Descriptions.Item label={t('crm.org')}>{v(c.org_name)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.manager')}>{v(c.manager_name)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.email')}>{v(c.email)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.address')}>{v(c.address)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.assets')}>{yuan(c.assets_fen)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.liabilities')}>{yuan(c.liabilities_fen)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.turnover')}>{yuan(c.turnover_fen)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.commission')}>{yuan(c.commission_fen)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.products')}>{v(c.products)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.opened_on')}>{v(c.opened_on)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.score')}>{c.score === null ? '-' : (c.score / 100).toFixed(2)}</Descriptions.Item>
              <Descriptions.Item label={t('crm.tags')}>{c.tags.map((x) => <Tag key={x}>{x}</Tag>)}</Descriptions.Item>
              {Object.entries(c.ext).map(([k, x]) => <Descriptions.Item key={k} label={k}>{v(x)}</Descriptions.Item>)}
            </Descriptions>
          </Card>
          <Card size="small" title={t('crm.tier_history')} style={{ marginTop: 16 }}>
            <Table size="small" rowKey="id" pagination={false} dataSource={c.tier_history ?? []} data-testid="tier-history"
              columns={[
                { title: t('crm.at'), dataIndex: 'at', render: (x: number) => new Date(x).toLocaleString() },
                { title: t('crm.from_tier'), dataIndex: 'from_tier', render: (x: number) => t(`crm.tier.${x}` as MessageKey) },
                { title: t('crm.to_tier'), dataIndex: 'to_tier', render: (x: number) => <Tag color={TIER_COLORS[x]}>{t(`crm.tier.${x}` as MessageKey)}</Tag> },
                { title: t('crm.score'), dataIndex: 'score', render: (x: number | null) => (x === null ? '-' : (x / 100).toFixed(2)) },
                { title: t('crm.run'), dataIndex: 'run_id' },
              ]} />
          </Card>
          <Card size="small" title={t('crm.trades')} style={{ marginTop: 16 }} data-testid="trades">
            {!trades || trades.totals.trades + trades.funds_by_month.length === 0 ? <Typography.Text type="secondary">{t('crm.trades.none')}</Typography.Text> : (
              <>
                <Typography.Text data-testid="trades-totals">
                  {t('crm.trades.totals', { trades: trades.totals.trades, amount: yuan(trades.totals.amount_fen),
                    commission: yuan(trades.totals.commission_fen), per_month: trades.totals.trades_per_month.toFixed(1) })}
                  {t('crm.funds.totals', { in: yuan(trades.totals.funds_in_fen), out: yuan(trades.totals.funds_out_fen) })}
                </Typography.Text>
                {tradeChart && <Chart option={tradeChart} height={220} label={t('crm.trades')} />}
                <Table size="small" rowKey="product_code" pagination={false} dataSource={trades.products}
                  columns={[
                    { title: t('crm.trades.product'), render: (_, p) => `${p.product_name} (${p.product_code})` },
                    { title: t('crm.trades.count'), dataIndex: 'trades' },
                    { title: t('crm.trades.amount'), dataIndex: 'amount_fen', align: 'right', render: (x: number) => yuan(x) },
                  ]} />
              </>
            )}
          </Card>
          <Card size="small" title={t('crm.open_tickets')} style={{ marginTop: 16 }}>
            <Typography.Text type="secondary">{t('crm.no_tickets')}</Typography.Text>
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Card size="small" title={t('crm.timeline', { n: contacts.total })}
            extra={<>
              {(has('crm:serve') || has('crm:write')) && <Button size="small" onClick={() => setNoting(true)} style={{ marginRight: 8 }} data-testid="add-note">{t('crm.note.add')}</Button>}
              <Select allowClear placeholder={t('crm.channel')} style={{ width: 120 }} value={channel} onChange={setChannel}
                options={CHANNELS.map((x) => ({ value: x, label: t(`crm.channel.${x}` as MessageKey) }))} />
            </>}>
            {contacts.items.length === 0 ? <Typography.Text type="secondary">{t('crm.no_contacts')}</Typography.Text> : (
              <Timeline data-testid="timeline" items={contacts.items.map((k) => ({
                color: k.direction === 'inbound' ? 'blue' : 'green',
                children: (
                  <div>
                    <div>{new Date(k.at).toLocaleString()} · {label(`crm.channel.${k.channel}`, k.channel)} · {label(`crm.contact.${k.kind}`, k.kind)}</div>
                    <Typography.Text type="secondary">{k.summary}</Typography.Text>
                    {k.ref_type === 'call' && k.kind === 'call' && has('cti:agent') && (
                      <div><audio controls preload="none" src={`/api/v1/cti/calls/${k.ref_id}/recording`} style={{ height: 28 }} /></div>
                    )}
                  </div>
                ),
              }))} />
            )}
          </Card>
        </Col>
      </Row>
      <Modal open={noting} title={t('crm.note.add')} onCancel={() => setNoting(false)} destroyOnClose
        onOk={async () => {
          const v = await noteForm.validateFields();
          try {
            await api(`/crm/customers/${id}/contacts`, { method: 'POST', body: { channel: v.channel, kind: v.kind ?? '', summary: v.summary } });
            setNoting(false);
            setReload((x) => x + 1);
          } catch (e) {
            message.error(errorText(e, t));
          }
        }}>
        <Form form={noteForm} layout="vertical" initialValues={{ channel: 'note' }}>
          <Form.Item name="channel">
            <Radio.Group options={[{ value: 'note', label: t('crm.channel.note') }, { value: 'business', label: t('crm.channel.business') }]} />
          </Form.Item>
          <Form.Item name="kind" label={t('crm.note.kind')}><Input maxLength={40} /></Form.Item>
          <Form.Item name="summary" label={t('crm.note.summary')} rules={[{ required: true, max: 2000 }]}>
            <Input.TextArea rows={4} data-testid="note-summary" />
          </Form.Item>
        </Form>
      </Modal>
    </PageContainer>
  );
}

/** 紧急查询: the file is not the user's to serve; with crm:emergency he may open it, saying why. */
function EmergencyAccess({ id, onOpened }: { id: string; onOpened: () => void }) {
  const { t } = useI18n();
  const { has } = useSession();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm<{ reason: string }>();
  if (!has('crm:emergency')) return <PageContainer><Typography.Text data-testid="customer-missing">{t('crm.emergency.not_found')}</Typography.Text></PageContainer>;
  const open = async () => {
    const v = await form.validateFields();
    try {
      await api(`/crm/customers/${id}/emergency-access`, { method: 'POST', body: v });
      onOpened();
    } catch (e) {
      message.error(errorText(e, t, t('crm.emergency.reason')));
    }
  };
  return (
    <PageContainer title={t('crm.emergency')}>
      <Card size="small" data-testid="emergency-access">
        <Typography.Paragraph>{t('crm.emergency.hint')}</Typography.Paragraph>
        <Form form={form} layout="vertical">
          <Form.Item name="reason" label={t('crm.emergency.reason')} rules={[{ required: true, min: 10 }]}>
            <Input.TextArea rows={3} maxLength={500} data-testid="emergency-reason" />
          </Form.Item>
          <Button type="primary" danger onClick={open} data-testid="emergency-open">{t('crm.emergency.open')}</Button>
        </Form>
      </Card>
    </PageContainer>
  );
}
