import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Card, Popconfirm, Select, Space, Tag, Typography } from 'antd';
import { api, listAll } from '../api/client';
import type { Rec } from '../api/types';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { errorText } from '../entity/errors';

interface RoleRef { id: number; code: string; name: string }

/** Roles of a staff member (grants go through 菜单权限审核) and the password reset. */
export function StaffPanel({ record }: { record: Rec; reload: () => void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const { has, me } = useSession();
  const [roles, setRoles] = useState<RoleRef[]>([]);
  const [allRoles, setAllRoles] = useState<Rec[]>([]);
  const [wanted, setWanted] = useState<number[]>([]);
  const [busy, setBusy] = useState(false);
  const [temporary, setTemporary] = useState<string | null>(null);

  const load = useCallback(() => {
    api<{ items: RoleRef[] }>(`/staff/${record.id}/roles`).then((r) => {
      setRoles(r.items);
      setWanted(r.items.map((x) => x.id));
    }, () => setRoles([]));
  }, [record.id]);
  useEffect(load, [load]);
  useEffect(() => {
    if (has('grant:submit') && has('role:read')) listAll('role').then(setAllRoles, () => setAllRoles([]));
  }, [has]);

  const grant = async () => {
    setBusy(true);
    try {
      const out = await api<{ change_request: { id: number } }>(`/staff/${record.id}/roles`, { method: 'POST', body: { role_ids: wanted } });
      message.success(t('staff.grant_submitted', { id: out.change_request.id }));
    } catch (err) {
      message.error(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  const reset = async () => {
    try {
      const out = await api<{ temporary_password?: string }>(`/staff/${record.id}/password-reset`, { method: 'POST' });
      setTemporary(out.temporary_password ?? null);
    } catch (err) {
      message.error(errorText(err, t));
    }
  };

  return (
    <Card title={t('staff.roles')}
      extra={has('staff:reset_password') && record.id !== me?.id && (
        <Popconfirm title={t('password.reset_confirm')} onConfirm={reset}>
          <Button danger>{t('password.reset')}</Button>
        </Popconfirm>
      )}>
      <Space direction="vertical" style={{ width: '100%' }}>
        {temporary && (
          <Alert type="warning" showIcon closable onClose={() => setTemporary(null)}
            message={<span data-testid="temporary-password">{t('password.reset_done', { password: temporary })}</span>} />
        )}
        <div>
          {roles.length ? roles.map((r) => <Tag key={r.id} color="blue">{r.name}</Tag>) : <Typography.Text type="secondary">{t('staff.no_roles')}</Typography.Text>}
        </div>
        {has('grant:submit') && allRoles.length > 0 && (
          <Space wrap>
            <label htmlFor="grant-roles">{t('staff.grant')}</label>
            <Select id="grant-roles" mode="multiple" style={{ minWidth: 320 }} value={wanted} onChange={setWanted}
              options={allRoles.map((r) => ({ value: r.id, label: String(r.name) }))} />
            <Button type="primary" loading={busy} onClick={grant}>{t('staff.grant_submit')}</Button>
          </Space>
        )}
      </Space>
    </Card>
  );
}
