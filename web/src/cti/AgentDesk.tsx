import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { App as AntApp, Alert, Button, Card, Col, Descriptions, Form, Input, Modal, Radio, Row, Select, Space, Table, Tag, Typography } from 'antd';
import { PhoneOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api/client';
import { useI18n, type MessageKey } from '../i18n';
import { useLiveEvent } from '../live';
import { errorText } from '../entity/errors';
import { useDict } from '../entity/refs';
import { agentCommand, clock, STATE_COLORS, type Desk } from './api';
import { ConversationsPanel } from './Conversations';
import { ScreenPop } from '../crm/ScreenPop';
import { useSession } from '../session';

const REASONS = ['rest', 'meal', 'meeting', 'training'];

interface HistoryItem { id: number; direction: string; started_at: number; disposition: string; call_type: string; summary: string }

/**
 * 座席工作台: the softphone bar with every M2 button, the state and its timer, the caller's
 * details with the customer's record (screen pop), the number's contact history and the
 * wrap-up form. Everything refreshes on the agent's own live events.
 */
export function AgentDesk() {
  const { t, pick } = useI18n();
  const { message } = AntApp.useApp();
  const { has } = useSession();
  const [desk, setDesk] = useState<Desk | null>(null);
  const [notAgent, setNotAgent] = useState(false);
  const [now, setNow] = useState(Date.now());
  const [reason, setReason] = useState('rest');
  const [number, setNumber] = useState('');
  const [keys, setKeys] = useState('');
  const [transferOpen, setTransferOpen] = useState(false);
  const [history, setHistory] = useState<HistoryItem[]>([]);
  const [wrapForm] = Form.useForm();
  const [transferForm] = Form.useForm();
  const callTypes = useDict('call_type');

  const load = useCallback(() => {
    api<Desk>('/cti/me').then(setDesk, (e) => {
      if (e instanceof ApiError && e.code === 'not_an_agent') setNotAgent(true);
    });
  }, []);
  useEffect(load, [load]);
  useLiveEvent('cti.agent', load);
  useLiveEvent('cti.call', load);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  // The customer's number: the caller on inbound calls, the called party on outbound and callbacks.
  const ani = desk?.call ? (desk.call.direction === 'inbound' ? desk.call.ani : desk.call.dnis) : undefined;
  useEffect(() => {
    if (!ani) return;
    api<{ items: HistoryItem[] }>('/cti/history', { query: { number: ani } }).then((r) => setHistory(r.items), () => setHistory([]));
  }, [ani]);

  const run = async (action: string, body: object = {}) => {
    try {
      setDesk(await agentCommand(action, body));
      return true;
    } catch (e) {
      message.error(errorText(e, t));
      return false;
    }
  };

  if (notAgent) return <Alert type="warning" showIcon message={t('cti.not_an_agent')} />;
  if (!desk) return null;
  const { agent, call } = desk;
  const st = agent.state;
  const signedIn = st !== 'signed_out';
  const talking = st === 'busy' && !!call;
  const consulting = call?.phase === 'consult';
  const stateKey = `cti.state.${st}` as MessageKey;
  const reasonKey = `cti.reason.${agent.reason}` as MessageKey;
  const reasonText = agent.reason && t(reasonKey) !== reasonKey ? t(reasonKey) : agent.reason;

  const submitTransfer = async (consult: boolean) => {
    const v = await transferForm.validateFields();
    if (await run('transfer', { kind: v.kind, target: v.target, consult })) setTransferOpen(false);
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Card size="small" data-testid="softphone">
        <Space wrap>
          <Tag color={STATE_COLORS[st]} style={{ fontSize: 16, padding: '4px 12px' }} data-testid="agent-state" data-state={st}>
            {t(stateKey)}{st === 'not_ready' && reasonText ? ` · ${reasonText}` : ''}
          </Tag>
          <Typography.Text data-testid="state-timer">{agent.since ? clock(now - agent.since) : "-"}</Typography.Text>
          {agent.pending_not_ready && <Tag>{t('cti.pending_not_ready')}</Tag>}
          {agent.conversations > 0 && <Tag color="cyan" data-testid="conversation-count">{t('cti.in_conversations', { n: agent.conversations })}</Tag>}
          {agent.phone_registered && <Tag color="green" data-testid="phone-registered">{t('cti.phone_registered')}</Tag>}
          {!signedIn && <Button type="primary" onClick={() => run('sign-in')}>{t('cti.sign_in')}</Button>}
          {signedIn && <Button onClick={() => run('sign-out')}>{t('cti.sign_out')}</Button>}
          {signedIn && st !== 'ready' && <Button onClick={() => run('ready')}>{t('cti.ready')}</Button>}
          {signedIn && (
            <Space.Compact>
              <Select value={reason} onChange={setReason} style={{ width: 96 }}
                options={REASONS.map((r) => ({ value: r, label: t(`cti.reason.${r}` as MessageKey) }))} />
              <Button onClick={() => run('not-ready', { reason })}>{t('cti.not_ready')}</Button>
            </Space.Compact>
          )}
          <Button type="primary" icon={<PhoneOutlined />} disabled={st !== 'reserved'} onClick={() => run('answer')}>{t('cti.answer')}</Button>
          <Button danger disabled={st !== 'busy' && st !== 'reserved'} onClick={() => run('hang-up')}>{t('cti.hang_up')}</Button>
          <Button disabled={!talking || consulting} onClick={() => run(agent.held ? 'retrieve' : 'hold')}>
            {agent.held ? t('cti.retrieve') : t('cti.hold')}
          </Button>
          <Button disabled={!talking} onClick={() => run('mute', { on: !agent.muted })}>{agent.muted ? t('cti.unmute') : t('cti.mute')}</Button>
          <Button disabled={!talking || consulting} onClick={() => setTransferOpen(true)}>{t('cti.transfer')}</Button>
          {desk.verify_target && (
            <Button disabled={!talking || consulting} data-testid="verify"
              onClick={() => run('transfer', { kind: 'ivr', target: desk.verify_target, consult: true })}>{t('cti.verify')}</Button>
          )}
          {consulting && <Button onClick={() => run('complete-transfer')}>{t('cti.complete_transfer')}</Button>}
          {consulting && <Button onClick={() => run('conference')}>{t('cti.conference')}</Button>}
          {consulting && <Button onClick={() => run('cancel-consult')}>{t('cti.cancel_consult')}</Button>}
          <Space.Compact>
            <Input placeholder={t('cti.number')} value={number} onChange={(e) => setNumber(e.target.value)} style={{ width: 150 }} data-testid="dial-number" />
            <Button disabled={!signedIn || st === 'busy' || st === 'reserved'} onClick={() => run('dial', { number })}>{t('cti.dial')}</Button>
          </Space.Compact>
          {talking && (
            <Space.Compact>
              <Input placeholder={t('cti.keys')} value={keys} onChange={(e) => setKeys(e.target.value.replace(/[^0-9*#ABCD]/g, ''))}
                maxLength={32} style={{ width: 110 }} data-testid="dtmf-keys" />
              <Button disabled={!keys} onClick={() => run('dtmf', { digits: keys }).then((ok) => ok && setKeys(''))}>{t('cti.send_keys')}</Button>
            </Space.Compact>
          )}
          <Button disabled={!talking} onClick={() => run('help', { note: '' }).then((ok) => ok && message.info(t('cti.help_sent')))}>{t('cti.help')}</Button>
        </Space>
      </Card>
      <ConversationsPanel items={desk.conversations} now={now} onDesk={setDesk} />
      <Row gutter={16}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('cti.incoming')} data-testid="incoming">
            {call ? (
              <Descriptions column={2} size="small">
                <Descriptions.Item label={t('cti.direction')}>
                  <span data-testid="call-direction">{t(`cti.direction.${call.direction}` as MessageKey)}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('cti.ani')}><span data-testid="call-ani">{call.ani}</span></Descriptions.Item>
                <Descriptions.Item label={t('cti.dnis')}>{call.dnis}</Descriptions.Item>
                <Descriptions.Item label={t('cti.queue')}>{call.queue_name ?? '-'}</Descriptions.Item>
                <Descriptions.Item label={t('cti.tier')}>{t(`crm.tier.${call.tier}` as MessageKey)}</Descriptions.Item>
                <Descriptions.Item label={t('cti.verified')}>
                  <span data-testid="call-verified">{call.verified ? t('cti.verified.yes') : t('cti.verified.no')}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('cti.phase')}>
                  <span data-testid="call-phase" data-phase={call.phase}>{t(`cti.phase.${call.phase}` as MessageKey)}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('cti.duration')}>{clock(now - call.started)}</Descriptions.Item>
              </Descriptions>
            ) : (
              <Typography.Text type="secondary">{t('cti.no_call')}</Typography.Text>
            )}
          </Card>
          {ani && has('crm:serve') && (
            <Card size="small" title={t('cti.customer_record')} style={{ marginTop: 16 }}>
              <ScreenPop number={ani} />
            </Card>
          )}
          <Card size="small" title={t('cti.history')} style={{ marginTop: 16 }}>
            <Table<HistoryItem> size="small" rowKey="id" pagination={false} dataSource={ani ? history : []}
              columns={[
                { title: t('cti.started'), dataIndex: 'started_at', render: (v: number) => new Date(v).toLocaleString() },
                { title: t('cti.disposition'), dataIndex: 'disposition' },
                { title: t('cti.call_type'), dataIndex: 'call_type' },
                { title: t('cti.summary'), dataIndex: 'summary' },
              ]} />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('cti.wrap_up')} data-testid="wrap-up">
            <Form form={wrapForm} layout="vertical" disabled={st !== 'wrap_up' && st !== 'busy'}
              onFinish={async (v) => {
                if (await run('wrap-up', { call_type: v.call_type ?? '', summary: v.summary ?? '', done: st === 'wrap_up' })) wrapForm.resetFields();
              }}>
              <Form.Item name="call_type" label={t('cti.call_type')}>
                <Select allowClear options={callTypes.map((d) => ({ value: d.code, label: pick(d.label_zh, d.label_en) }))} />
              </Form.Item>
              <Form.Item name="summary" label={t('cti.summary')}>
                <Input.TextArea rows={4} maxLength={2000} />
              </Form.Item>
              <Space>
                <Button type="primary" htmlType="submit">{t('cti.save_wrap_up')}</Button>
                {has('ticket:create') && (
                  <Link to={`/tickets?new=1&phone=${encodeURIComponent(ani ?? '')}${call ? `&call_id=${call.id}` : ''}`} data-testid="desk-new-ticket">
                    <Button>{t('ticket.new')}</Button>
                  </Link>)}
              </Space>
            </Form>
          </Card>
        </Col>
      </Row>
      <Modal open={transferOpen} title={t('cti.transfer')} onCancel={() => setTransferOpen(false)} destroyOnClose
        footer={[
          <Button key="c" onClick={() => submitTransfer(true)}>{t('cti.consult')}</Button>,
          <Button key="b" type="primary" onClick={() => submitTransfer(false)}>{t('cti.blind')}</Button>,
        ]}>
        <Form form={transferForm} layout="vertical" initialValues={{ kind: 'agent' }}>
          <Form.Item name="kind" label={t('cti.target_kind')}>
            <Radio.Group onChange={() => transferForm.setFieldValue('target', undefined)}>
              <Radio value="agent">{t('cti.kind.agent')}</Radio>
              <Radio value="queue">{t('cti.kind.queue')}</Radio>
              <Radio value="number">{t('cti.kind.number')}</Radio>
              <Radio value="ivr">{t('cti.kind.ivr')}</Radio>
            </Radio.Group>
          </Form.Item>
          <Form.Item noStyle shouldUpdate>
            {() => {
              const kind = transferForm.getFieldValue('kind');
              return (
                <Form.Item name="target" label={t('cti.target')} rules={[{ required: true }]}>
                  {kind === 'number' ? <Input data-testid="transfer-number" /> : (
                    <Select showSearch optionFilterProp="label" data-testid="transfer-target"
                      options={kind === 'queue'
                        ? desk.queues.map((q) => ({ value: q.code, label: q.name }))
                        : kind === 'ivr'
                        ? desk.ivr_targets
                        : desk.colleagues.map((c) => ({ value: c.username, label: `${c.name} (${c.username}) · ${t(`cti.state.${c.state}` as MessageKey)}` }))} />
                  )}
                </Form.Item>
              );
            }}
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
