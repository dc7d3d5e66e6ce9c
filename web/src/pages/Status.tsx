import { Button, Result } from 'antd';
import { useNavigate } from 'react-router-dom';
import { useI18n } from '../i18n';

export function Forbidden() {
  const { t } = useI18n();
  const navigate = useNavigate();
  return (
    <Result status="403" title={t('forbidden.title')} subTitle={t('forbidden.text')}
      extra={<Button type="primary" onClick={() => navigate('/')}>{t('home.go')}</Button>} />
  );
}

export function NotFound() {
  const { t } = useI18n();
  const navigate = useNavigate();
  return (
    <Result status="404" title="404" subTitle={t('notfound.text')}
      extra={<Button type="primary" onClick={() => navigate('/')}>{t('home.go')}</Button>} />
  );
}
