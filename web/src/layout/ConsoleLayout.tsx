import { Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { Badge, Dropdown, Spin } from 'antd';
import { AuditOutlined, AppstoreOutlined, SafetyCertificateOutlined as ReviewIcon, ClusterOutlined, HomeOutlined, PhoneOutlined, DashboardOutlined, CustomerServiceOutlined, LogoutOutlined, KeyOutlined, SettingOutlined, IdcardOutlined, TranslationOutlined, FileTextOutlined } from '@ant-design/icons';
import { ProLayout, type MenuDataItem } from '@ant-design/pro-components';
import { useI18n, type MessageKey } from '../i18n';
import { useSession } from '../session';
import { api } from '../api/client';
import type { ChangeRequest } from '../api/types';
import { useLiveEvent } from '../live';

const GROUP_ICONS: Record<string, JSX.Element> = {
  org: <ClusterOutlined />,
  system: <SettingOutlined />,
  cti: <CustomerServiceOutlined />,
  crm: <IdcardOutlined />,
};

/**
 * The console frame. Its menu is built from the signed-in user's permissions: a group shows when
 * he holds its menu permission (menu:org, menu:system, ...), and inside it each entity he may read.
 * An entity added to the registry appears here with no front-end change.
 */
export function ConsoleLayout() {
  const { t, pick, locale, setLocale } = useI18n();
  const { me, entities, has, logout } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const [todo, setTodo] = useState(0);
  const countTodo = useCallback(() => {
    api<{ items: ChangeRequest[] }>('/reviews').then((r) => setTodo(r.items.filter((x) => x.can_decide).length), () => undefined);
  }, []);
  useEffect(countTodo, [countTodo]);
  useLiveEvent('review.changed', countTodo);

  const menu = useMemo<MenuDataItem[]>(() => {
    const items: MenuDataItem[] = [{ path: '/', name: t('nav.home'), icon: <HomeOutlined /> }];
    if (has('cti:agent')) items.push({ path: '/desk', name: t('nav.desk'), icon: <PhoneOutlined /> });
    if (has('cti:supervise')) items.push({ path: '/wallboard', name: t('nav.wallboard'), icon: <DashboardOutlined /> });
    if (has('cti:agent')) items.push({ path: '/voicemails', name: t('nav.voicemails'), icon: <CustomerServiceOutlined /> });
    if (has('ticket:create') || has('ticket:read')) items.push({ path: '/tickets', name: t('nav.tickets'), icon: <FileTextOutlined /> });
    const groups = new Map<string, MenuDataItem[]>();
    for (const e of entities) {
      const list = groups.get(e.menu) ?? [];
      list.push({ path: `/e/${e.name}`, name: pick(e.label_zh, e.label_en) });
      groups.set(e.menu, list);
    }
    // 客户管理: the module's own pages come before its plain records.
    const crmPages: MenuDataItem[] = [];
    if (has('crm:read')) crmPages.push({ path: '/crm/customers', name: t('crm.customers') }, { path: '/crm/query', name: t('crm.query') },
        { path: '/crm/stats', name: t('crm.stats') });
    if (has('crm:grade')) crmPages.push({ path: '/crm/grading', name: t('crm.grading') });
    if (has('crm:import')) crmPages.push({ path: '/crm/import', name: t('crm.import') });
    if (has('crm:webhook')) crmPages.push({ path: '/crm/webhooks', name: t('crm.webhooks') });
    if (has('crm:access_log')) crmPages.push({ path: '/crm/access', name: t('crm.access') });
    if (crmPages.length && !groups.has('crm')) groups.set('crm', []);
    for (const [g, list] of groups) {
      if (!has(`menu:${g}`)) continue;
      const children = g === 'org' && entities.some((e) => e.name === 'org_unit') ? [{ path: '/org', name: t('nav.org_tree') }, ...list]
        : g === 'crm' ? [...crmPages, ...list] : list;
      const key = `menu.${g}` as MessageKey;
      if (t(key) !== key) items.push({ path: `/group/${g}`, name: t(key), icon: GROUP_ICONS[g] ?? <AppstoreOutlined />, children });
      else items.push(...children.map((c) => ({ ...c, icon: <AppstoreOutlined /> })));
    }
    if (has('menu:review')) items.push({ path: '/reviews', name: t('nav.reviews'), icon: <ReviewIcon /> });
    if (has('menu:audit') && has('audit:read')) items.push({ path: '/audit', name: t('nav.audit'), icon: <AuditOutlined /> });
    return items;
  }, [entities, has, t, pick]);

  return (
    <ProLayout
      title={t('app.name')}
      logo={false}
      layout="mix"
      fixSiderbar
      location={{ pathname: location.pathname }}
      route={{ path: '/', routes: menu }}
      menu={{ defaultOpenAll: true, locale: false }}
      menuItemRender={(item, dom) => {
        if (!item.path) return dom;
        if (item.path === '/reviews' && todo > 0)
          return <Link to={item.path}><Badge count={todo} size="small" offset={[12, 0]} data-testid="review-badge">{dom}</Badge></Link>;
        return <Link to={item.path}>{dom}</Link>;
      }}
      avatarProps={{
        title: me?.name,
        size: 'small',
        render: (_, dom) => (
          <Dropdown
            menu={{
              items: [
                { key: 'password', icon: <KeyOutlined />, label: t('nav.password'), onClick: () => navigate('/account/password') },
                { key: 'lang', icon: <TranslationOutlined />, label: t('lang.switch'), onClick: () => setLocale(locale === 'zh-CN' ? 'en-US' : 'zh-CN') },
                { type: 'divider' },
                { key: 'logout', icon: <LogoutOutlined />, label: t('nav.logout'), onClick: async () => { await logout(); navigate('/login'); } },
              ],
            }}
          >
            <span data-testid="user-menu">{dom}</span>
          </Dropdown>
        ),
      }}
    >
      <Suspense fallback={<Spin style={{ display: 'block', margin: 48 }} />}>
        <Outlet />
      </Suspense>
    </ProLayout>
  );
}
