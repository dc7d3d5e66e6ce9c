import { useCallback, useEffect, useState } from 'react';
import { App as AntApp, Button, Card, Col, Form, Input, InputNumber, List, Row, Segmented, Space, Statistic, Table, Tag } from 'antd';
import { api } from '../api/client';
import { useI18n, type MessageKey } from '../i18n';
import { useLiveEvent } from '../live';
import { useSession } from '../session';
import { errorText } from '../entity/errors';
import { clock, STATE_COLORS, supervisorCommand, type AgentLive, type CallLive, type Live } from './api';

interface HelpAlert { call: number; username: string; name: string; note: string; at: number }

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * 实时监控: queues with their KPIs over 15/30/60 minutes, agents with their state and call, the
 * calls in progress, help requests, and the supervisor's actions (listen, whisper, barge in,
 * take over, force not ready, force sign-out). Refreshed by the server's cti.stats tick (1 s).
 */
export function Wallboard() {
  const { t } = useI18n();
  const { has } = useSession();
  const { message } = AntApp.useApp();
  const [live, setLive] = useState<Live | null>(null);
  const [window, setWindow] = useState(0);
  const [alerts, setAlerts] = useState<HelpAlert[]>([]);
  const load = useCallback(() => {
    api<Live>('/cti/live').then(setLive, () => undefined);
  }, []);
  useEffect(load, [load]);
  useLiveEvent('cti.stats', load);
  useLiveEvent('cti.agent', load);
  useLiveEvent('cti.alert', (d) => d && setAlerts((a) => [d as HelpAlert, ...a].slice(0, 20)));

  const act = async (action: string, body: object) => {
    try {
      await supervisorCommand(action, body);
      load();
    } catch (e) {
      message.error(errorText(e, t));
    }
  };
  if (!live) return null;
  const now = live.at;
  const callOf = (a: AgentLive) => live.calls.find((c) => c.id === a.call);

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Space>
        <span>{t('cti.window')}</span>
        <Segmented value={window} onChange={(v) => setWindow(Number(v))}
          options={[0, 1, 2].map((i) => ({ value: i, label: t('cti.minutes', { n: [15, 30, 60][i] }) }))} />
      </Space>
      <Row gutter={[16, 16]}>
        {live.queues.map((q) => {
          const w = q.windows[window];
          return (
            <Col xs={24} md={12} xl={8} key={q.code}>
              <Card size="small" title={q.name} data-testid={`queue-${q.code}`}>
                <Row gutter={8}>
                  <Col span={8}><Statistic title={t('cti.waiting')} value={q.waiting} /></Col>
                  <Col span={8}><Statistic title={t('cti.longest_wait')} value={clock(q.longest_wait_ms)} /></Col>
                  <Col span={8}><Statistic title={t('cti.service_level')} value={pct(w.service_level)} /></Col>
                  <Col span={8}><Statistic title={t('cti.answered')} value={w.answered} /></Col>
                  <Col span={8}><Statistic title={t('cti.abandon_rate')} value={pct(w.abandon_rate)} /></Col>
                  <Col span={8}><Statistic title={t('cti.asa')} value={clock(w.asa_ms)} /></Col>
                  <Col span={8}><Statistic title={t('cti.aht')} value={clock(w.aht_ms)} /></Col>
                </Row>
                <Space wrap style={{ marginTop: 8 }}>
                  {Object.entries(q.agents).map(([s, n]) => (
                    <Tag key={s} color={STATE_COLORS[s]}>{t(`cti.state.${s}` as MessageKey)} {n}</Tag>
                  ))}
                </Space>
              </Card>
            </Col>
          );
        })}
      </Row>
      <Row gutter={16}>
        <Col xs={24} xl={17}>
          <Card size="small" title={t('cti.agents')} extra={<Button size="small" onClick={() => act('stop', {})}>{t('cti.stop_monitor')}</Button>}>
            <Table<AgentLive> size="small" rowKey="username" dataSource={live.agents} pagination={{ pageSize: 20 }}
              onRow={(a) => ({ 'data-testid': `agent-${a.username}` } as React.HTMLAttributes<HTMLElement>)}
              columns={[
                { title: t('cti.name'), render: (_, a) => `${a.name} (${a.username})` },
                { title: t('cti.state'), render: (_, a) => <Tag color={STATE_COLORS[a.state]} data-state={a.state}>{t(`cti.state.${a.state}` as MessageKey)}</Tag> },
                { title: t('cti.state_time'), render: (_, a) => (a.since ? clock(now - a.since) : '-') },
                { title: t('cti.conversations'), render: (_, a) => a.conversations || '' },
                { title: t('cti.ani'), render: (_, a) => callOf(a)?.ani ?? '' },
                { title: t('cti.actions'), render: (_, a) => (
                  <Space size={0} wrap data-testid={`actions-${a.username}`}>
                    {a.state === 'busy' && (['listen', 'whisper', 'barge'] as const).map((m) => (
                      <Button key={m} type="link" size="small" onClick={() => act('monitor', { agent: a.username, mode: m })}>{t(`cti.${m}`)}</Button>
                    ))}
                    {a.state === 'busy' && <Button type="link" size="small" onClick={() => act('take-over', { agent: a.username })}>{t('cti.take_over')}</Button>}
                    {a.state !== 'signed_out' && <Button type="link" size="small" onClick={() => act('force-not-ready', { agent: a.username })}>{t('cti.force_not_ready')}</Button>}
                    {a.state !== 'signed_out' && <Button type="link" size="small" danger onClick={() => act('force-sign-out', { agent: a.username })}>{t('cti.force_sign_out')}</Button>}
                  </Space>
                ) },
              ]} />
          </Card>
          <Card size="small" title={t('cti.calls')} style={{ marginTop: 16 }}>
            <Table<CallLive> size="small" rowKey="id" dataSource={live.calls} pagination={false}
              columns={[
                { title: t('cti.ani'), dataIndex: 'ani' },
                { title: t('cti.queue'), dataIndex: 'queue_name' },
                { title: t('cti.phase'), render: (_, c) => t(`cti.phase.${c.phase}` as MessageKey) },
                { title: t('cti.owner'), dataIndex: 'owner_name' },
                { title: t('cti.duration'), render: (_, c) => clock(now - c.started) },
              ]} />
          </Card>
        </Col>
        <Col xs={24} xl={7}>
          {has('cti:simulate') && <SimCall />}
          <Card size="small" title={t('cti.alerts')} style={{ marginTop: 16 }}>
            <List size="small" dataSource={alerts} renderItem={(a) => (
              <List.Item>{new Date(a.at).toLocaleTimeString()} {a.name}: {a.note || t('cti.help')}</List.Item>
            )} />
          </Card>
          <Card size="small" title={t('cti.teams')} style={{ marginTop: 16 }}>
            <List size="small" dataSource={live.teams} renderItem={(tm) => (
              <List.Item>
                <Space direction="vertical" size={0}>
                  <strong>{tm.name}</strong>
                  <Space wrap>{Object.entries(tm.agents).map(([s, n]) => <Tag key={s} color={STATE_COLORS[s]}>{t(`cti.state.${s}` as MessageKey)} {n}</Tag>)}</Space>
                  <span>{t('cti.aht')} {clock(tm.windows[window]?.aht_ms ?? 0)}</span>
                </Space>
              </List.Item>
            )} />
          </Card>
        </Col>
      </Row>
    </Space>
  );
}

/** The simulator switch's outside world: a customer calls in. */
function SimCall() {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  return (
    <Card size="small" title={t('cti.sim_call')}>
      <Form layout="inline" initialValues={{ from: '13912345678', to: '95555', tier: 0 }} data-testid="sim-call"
        onFinish={(v) => api('/cti/sim/calls', { method: 'POST', body: v }).catch((e) => message.error(errorText(e, t)))}>
        <Form.Item name="from" label={t('cti.from')}><Input style={{ width: 130 }} /></Form.Item>
        <Form.Item name="to" label={t('cti.to')}><Input style={{ width: 80 }} /></Form.Item>
        <Form.Item name="tier" label={t('cti.tier')}><InputNumber min={0} max={4} style={{ width: 56 }} /></Form.Item>
        <Button htmlType="submit" type="primary">{t('cti.place_call')}</Button>
      </Form>
      {/* A visitor starts a web chat (what the site's chat gateway does through the same API). */}
      <Form layout="inline" style={{ marginTop: 8 }} initialValues={{ customer: 'visitor-1', body: '你好，想咨询开户' }} data-testid="sim-chat"
        onFinish={(v) => api('/cti/conversations', { method: 'POST', body: { channel: 'chat', queue: 'webchat', subject: v.body, ...v } })
          .catch((e) => message.error(errorText(e, t)))}>
        <Form.Item name="customer" label={t('cti.visitor')}><Input style={{ width: 130 }} /></Form.Item>
        <Form.Item name="body" label={t('cti.first_line')}><Input style={{ width: 200 }} /></Form.Item>
        <Button htmlType="submit">{t('cti.start_chat')}</Button>
      </Form>
    </Card>
  );
}
