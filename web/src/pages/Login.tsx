import { useState } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { ApiError } from '../api/client';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { errorText } from '../entity/errors';

/** Sign-in; afterwards the user returns to the page he was sent away from (?next=). */
export function Login() {
  const { t, locale, setLocale } = useI18n();
  const { login, expired } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = new URLSearchParams(location.search).get('next');
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';

  const submit = async (v: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      const me = await login(v.username, v.password);
      navigate(me.must_change_password ? `/account/password?next=${encodeURIComponent(target)}` : target, { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_credentials') setError(t('login.failed'));
      else if (err instanceof ApiError && err.code === 'account_locked') setError(t('login.locked'));
      else setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', background: '#f0f2f5' }}>
      <Card style={{ width: 380 }}>
        <Typography.Title level={3} style={{ textAlign: 'center', marginBottom: 0 }}>{t('app.name')}</Typography.Title>
        <Typography.Paragraph type="secondary" style={{ textAlign: 'center' }}>{t('app.subtitle')}</Typography.Paragraph>
        {(error || expired) && <Alert type={error ? 'error' : 'warning'} showIcon style={{ marginBottom: 16 }} message={error ?? t('login.expired')} />}
        <Form layout="vertical" name="login" onFinish={submit} requiredMark={false}>
          <Form.Item name="username" label={t('login.username')} rules={[{ required: true, message: t('login.required.username') }]}>
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.required.password') }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>{t('login.submit')}</Button>
        </Form>
        <div style={{ textAlign: 'right', marginTop: 12 }}>
          <Button type="link" size="small" onClick={() => setLocale(locale === 'zh-CN' ? 'en-US' : 'zh-CN')}>{t('lang.switch')}</Button>
        </div>
      </Card>
    </div>
  );
}
