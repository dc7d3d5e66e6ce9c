import { useCallback, useEffect, useState } from 'react';
import { App as AntApp, Button, Input, Modal, Segmented, Table, Tag } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import { api } from '../api/client';
import { errorText } from '../entity/errors';
import { useI18n } from '../i18n';

interface Voicemail {
  call_id: number; queue: string | null; ani: string; at: number; seconds: number; status: 'new' | 'done';
  handled_at: number | null; handled_by: string | null; note: string | null;
}

/**
 * 客户留言: messages callers left when nobody could answer. Each is a task for the hotline until an
 * agent has called back and marks it handled (once: a second agent is told it is done).
 */
export function Voicemails() {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  const [status, setStatus] = useState<'new' | 'done'>('new');
  const [items, setItems] = useState<Voicemail[]>([]);
  const [handling, setHandling] = useState<Voicemail | null>(null);
  const [note, setNote] = useState('');
  const load = useCallback(() => api<{ items: Voicemail[] }>('/cti/voicemails', { query: { status } }).then((r) => setItems(r.items), () => undefined), [status]);
  useEffect(() => {
    load();
    const timer = setInterval(load, 10000);
    return () => clearInterval(timer);
  }, [load]);
  const handle = async () => {
    if (!handling) return;
    try {
      await api(`/cti/voicemails/${handling.call_id}/handle`, { method: 'POST', body: { note } });
      message.success(t('vm.handled'));
    } catch (e) {
      message.error(errorText(e, t));
    }
    setHandling(null);
    load();
  };
  return (
    <PageContainer title={t('nav.voicemails')}
      extra={<Segmented value={status} onChange={(v) => setStatus(v as 'new' | 'done')}
        options={[{ value: 'new', label: t('vm.new') }, { value: 'done', label: t('vm.done') }]} />}>
      <Table<Voicemail> size="small" rowKey="call_id" dataSource={items} data-testid="voicemails" pagination={{ pageSize: 20 }}
        columns={[
          { title: t('vm.at'), dataIndex: 'at', render: (x: number) => new Date(x).toLocaleString() },
          { title: t('vm.caller'), dataIndex: 'ani' },
          { title: t('vm.queue'), dataIndex: 'queue' },
          { title: t('vm.seconds'), dataIndex: 'seconds', width: 90 },
          { title: t('vm.listen'), key: 'audio', render: (_, v) => <audio controls preload="none" src={`/api/v1/cti/calls/${v.call_id}/recording`} style={{ height: 28 }} /> },
          status === 'new'
            ? { title: '', key: 'act', render: (_, v) => <Button size="small" type="primary" data-testid={`vm-handle-${v.call_id}`} onClick={() => { setHandling(v); setNote(''); }}>{t('vm.handle')}</Button> }
            : { title: t('vm.by'), key: 'by', render: (_, v) => <span>{v.handled_by} · {v.handled_at ? new Date(v.handled_at).toLocaleString() : ''} {v.note ? <Tag>{v.note}</Tag> : null}</span> },
        ]} />
      <Modal open={handling !== null} title={t('vm.handle')} onOk={handle} onCancel={() => setHandling(null)} destroyOnClose>
        <Input.TextArea rows={3} maxLength={500} value={note} onChange={(e) => setNote(e.target.value)} placeholder={t('vm.note_hint')} data-testid="vm-note" />
      </Modal>
    </PageContainer>
  );
}
