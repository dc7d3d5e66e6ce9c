import { useState } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import { Alert, App, Button, Card, Form, Input } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import { api } from '../api/client';
import { useI18n, type MessageKey } from '../i18n';
import { useSession } from '../session';
import { applyFieldErrors } from '../entity/errors';

export function ChangePassword() {
  const { t } = useI18n();
  const { me, refresh } = useSession();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const navigate = useNavigate();
  const location = useLocation();
  const [busy, setBusy] = useState(false);
  const [other, setOther] = useState<string[]>([]);
  const next = new URLSearchParams(location.search).get('next') ?? '/';
  const labels: Record<string, MessageKey> = { old_password: 'password.old', new_password: 'password.new' };

  const submit = async (v: { old_password: string; new_password: string }) => {
    setBusy(true);
    setOther([]);
    try {
      await api('/auth/password', { method: 'POST', body: { old_password: v.old_password, new_password: v.new_password } });
      message.success(t('password.changed'));
      await refresh();
      navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (err) {
      setOther(applyFieldErrors(form, err, t, (n) => (labels[n] ? t(labels[n]) : n), ['old_password', 'new_password']));
    } finally {
      setBusy(false);
    }
  };

  return (
    <PageContainer title={t('password.title')}>
      <Card style={{ maxWidth: 480 }}>
        {me?.must_change_password && <Alert type="warning" showIcon style={{ marginBottom: 16 }} message={t('password.must_change')} />}
        {other.length > 0 && <Alert type="error" showIcon style={{ marginBottom: 16 }} message={other.join('；')} />}
        <Form form={form} layout="vertical" name="password" onFinish={submit}>
          <Form.Item name="old_password" label={t('password.old')} rules={[{ required: true, message: t('error.required', { field: t('password.old') }) }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Form.Item name="new_password" label={t('password.new')} rules={[{ required: true, message: t('error.required', { field: t('password.new') }) }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="confirm" label={t('password.confirm')} dependencies={['new_password']}
            rules={[{ required: true, message: t('error.required', { field: t('password.confirm') }) },
              ({ getFieldValue }) => ({ validator: (_, v) => (!v || v === getFieldValue('new_password') ? Promise.resolve() : Promise.reject(new Error(t('password.mismatch')))) })]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={busy}>{t('common.save')}</Button>
        </Form>
      </Card>
    </PageContainer>
  );
}
