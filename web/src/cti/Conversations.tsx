import { useCallback, useEffect, useState } from 'react';
import { App as AntApp, Button, Card, Col, Empty, Input, List, Row, Select, Space, Tag, Typography } from 'antd';
import { api } from '../api/client';
import { useI18n, type MessageKey } from '../i18n';
import { useLiveEvent } from '../live';
import { errorText } from '../entity/errors';
import { useDict } from '../entity/refs';
import { clock, type ConversationLive, type Desk } from './api';

interface Line { seq: number; sender: 'customer' | 'agent'; body: string; at: number }

const STATE_COLOR: Record<string, string> = { offered: 'gold', active: 'blue', wrap_up: 'purple', waiting: 'default' };

/**
 * 在线会话与邮件: the chats and e-mails offered to the agent or in his hands, beside his phone.
 * Accept or decline an offer, read and write the lines of the selected one, close it, wrap it up.
 */
export function ConversationsPanel({ items, now, onDesk }: { items: ConversationLive[]; now: number; onDesk: (d: Desk) => void }) {
  const { t, pick } = useI18n();
  const { message } = AntApp.useApp();
  const callTypes = useDict('call_type');
  const [selected, setSelected] = useState<number | null>(null);
  const [lines, setLines] = useState<Line[]>([]);
  const [text, setText] = useState('');
  const [callType, setCallType] = useState<string | undefined>();
  const [summary, setSummary] = useState('');
  const current = items.find((c) => c.id === selected) ?? items.find((c) => c.state !== 'offered') ?? null;
  const currentId = current?.id;

  const load = useCallback(() => {
    if (!currentId) return setLines([]);
    api<{ messages: Line[] }>(`/cti/conversations/${currentId}`).then((r) => setLines(r.messages), () => setLines([]));
  }, [currentId]);
  useEffect(load, [load, current?.state]);
  useLiveEvent('cti.message', load);

  const run = async (id: number, action: string, body: object = {}) => {
    try {
      onDesk(await api<Desk>(`/cti/agent/conversations/${id}/${action}`, { method: 'POST', body }));
      return true;
    } catch (e) {
      message.error(errorText(e, t));
      return false;
    }
  };
  const send = async () => {
    if (current && text.trim() && (await run(current.id, 'messages', { body: text.trim() }))) {
      setText('');
      load();
    }
  };

  return (
    <Card size="small" title={t('cti.conversations')} data-testid="conversations">
      {items.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('cti.no_conversations')} />
      ) : (
        <Row gutter={16}>
          <Col xs={24} md={9}>
            <List size="small" dataSource={items} renderItem={(c) => (
              <List.Item data-testid={`conversation-${c.id}`} data-state={c.state}
                style={{ cursor: 'pointer', background: c.id === current?.id ? 'rgba(22,119,255,0.08)' : undefined }}
                onClick={() => c.state !== 'offered' && setSelected(c.id)}
                actions={c.state === 'offered' ? [
                  <Button key="a" size="small" type="primary" onClick={() => run(c.id, 'accept').then((ok) => ok && setSelected(c.id))}>{t('cti.accept')}</Button>,
                  <Button key="d" size="small" onClick={() => run(c.id, 'decline')}>{t('cti.decline')}</Button>,
                ] : []}>
                <List.Item.Meta
                  title={<Space size={4}>
                    <Tag>{t(`cti.channel.${c.channel}` as MessageKey)}</Tag>
                    <span>{c.customer}</span>
                  </Space>}
                  description={<Space size={4}>
                    <Tag color={STATE_COLOR[c.state]}>{t(`cti.conv_state.${c.state}` as MessageKey)}</Tag>
                    <Typography.Text type="secondary">{c.subject || c.queue_name} · {clock(now - (c.accepted_at ?? c.queued_at))}</Typography.Text>
                  </Space>} />
              </List.Item>
            )} />
          </Col>
          <Col xs={24} md={15}>
            {current ? (
              <Space direction="vertical" style={{ width: '100%' }}>
                <div data-testid="conversation-lines" style={{ maxHeight: 260, overflowY: 'auto', border: '1px solid rgba(5,5,5,0.06)', borderRadius: 6, padding: 8 }}>
                  {lines.map((l) => (
                    <div key={l.seq} style={{ textAlign: l.sender === 'agent' ? 'right' : 'left', margin: '4px 0' }}>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {t(l.sender === 'agent' ? 'cti.sender.agent' : 'cti.sender.customer')} · {new Date(l.at).toLocaleTimeString()}
                      </Typography.Text>
                      <div><Tag color={l.sender === 'agent' ? 'blue' : undefined} style={{ whiteSpace: 'pre-wrap', fontSize: 14 }}>{l.body}</Tag></div>
                    </div>
                  ))}
                </div>
                {current.state === 'active' && (
                  <Space.Compact style={{ width: '100%' }}>
                    <Input value={text} onChange={(e) => setText(e.target.value)} onPressEnter={send}
                      placeholder={t('cti.write')} maxLength={20000} data-testid="conversation-input" />
                    <Button type="primary" onClick={send}>{t('cti.send')}</Button>
                    <Button danger onClick={() => run(current.id, 'close')}>{t('cti.close_conversation')}</Button>
                  </Space.Compact>
                )}
                {current.state === 'wrap_up' && (
                  <Space wrap data-testid="conversation-wrap-up">
                    <Select allowClear style={{ width: 160 }} placeholder={t('cti.call_type')} value={callType} onChange={setCallType}
                      options={callTypes.map((d) => ({ value: d.code, label: pick(d.label_zh, d.label_en) }))} />
                    <Input style={{ width: 260 }} placeholder={t('cti.summary')} value={summary} onChange={(e) => setSummary(e.target.value)} maxLength={2000} />
                    <Button type="primary" onClick={async () => {
                      if (await run(current.id, 'wrap-up', { call_type: callType ?? '', summary, done: true })) {
                        setCallType(undefined);
                        setSummary('');
                        setSelected(null);
                      }
                    }}>{t('cti.save_wrap_up')}</Button>
                  </Space>
                )}
              </Space>
            ) : (
              <Typography.Text type="secondary">{t('cti.accept_to_start')}</Typography.Text>
            )}
          </Col>
        </Row>
      )}
    </Card>
  );
}
