import { lazy } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { Spin } from 'antd';
import { useSession } from './session';
import { ConsoleLayout } from './layout/ConsoleLayout';
import { Login } from './pages/Login';
import { ChangePassword } from './pages/ChangePassword';
import { Forbidden, NotFound } from './pages/Status';
import { EntityCreatePage, EntityDetailPage, EntityEditPage, EntityListPage } from './entity/EntityPages';

// Pages outside the everyday list/detail path load on first use; the home page's charts
// (ECharts) stay out of the first download of someone who opens a list directly.
const Home = lazy(() => import('./pages/Home').then((m) => ({ default: m.Home })));
const OrgTree = lazy(() => import('./admin/OrgTree').then((m) => ({ default: m.OrgTree })));
const Reviews = lazy(() => import('./admin/Reviews').then((m) => ({ default: m.Reviews })));
const AgentDesk = lazy(() => import('./cti/AgentDesk').then((m) => ({ default: m.AgentDesk })));
const Wallboard = lazy(() => import('./cti/Wallboard').then((m) => ({ default: m.Wallboard })));
const Voicemails = lazy(() => import('./cti/Voicemails').then((m) => ({ default: m.Voicemails })));
const Customers = lazy(() => import('./crm/Customers').then((m) => ({ default: m.Customers })));
const CustomerView = lazy(() => import('./crm/CustomerView').then((m) => ({ default: m.CustomerView })));
const CustomerQuery = lazy(() => import('./crm/Query').then((m) => ({ default: m.CustomerQuery })));
const CustomerStats = lazy(() => import('./crm/Stats').then((m) => ({ default: m.CustomerStats })));
const Grading = lazy(() => import('./crm/Grading').then((m) => ({ default: m.Grading })));
const CustomerImport = lazy(() => import('./crm/Import').then((m) => ({ default: m.CustomerImport })));
const CustomerWebhooks = lazy(() => import('./crm/Webhooks').then((m) => ({ default: m.CustomerWebhooks })));
const AccessLog = lazy(() => import('./crm/AccessLog').then((m) => ({ default: m.AccessLog })));
const Tickets = lazy(() => import('./ticket/Tickets').then((m) => ({ default: m.Tickets })));
const TicketView = lazy(() => import('./ticket/TicketView').then((m) => ({ default: m.TicketView })));
const AuditLog = lazy(() => import('./admin/AuditLog').then((m) => ({ default: m.AuditLog })));


/** Signed-in pages: without a session the user goes to the login page and comes back after. */
function RequireSession({ children }: { children: JSX.Element }) {
  const { me, loading } = useSession();
  const location = useLocation();
  const here = location.pathname + location.search;
  if (loading) return <div style={{ padding: 48, textAlign: 'center' }}><Spin size="large" /></div>;
  if (!me) return <Navigate to={`/login?next=${encodeURIComponent(here)}`} replace />;
  if (me.must_change_password && location.pathname !== '/account/password')
    return <Navigate to={`/account/password?next=${encodeURIComponent(here)}`} replace />;
  return children;
}

function Guard({ perm, children }: { perm: string; children: JSX.Element }) {
  const { has } = useSession();
  return has(perm) ? children : <Forbidden />;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<Login />} />
      <Route element={<RequireSession><ConsoleLayout /></RequireSession>}>
        <Route index element={<Home />} />
        <Route path="org" element={<OrgTree />} />
        <Route path="reviews" element={<Reviews />} />
        <Route path="desk" element={<Guard perm="cti:agent"><AgentDesk /></Guard>} />
        <Route path="wallboard" element={<Guard perm="cti:supervise"><Wallboard /></Guard>} />
        <Route path="voicemails" element={<Guard perm="cti:agent"><Voicemails /></Guard>} />
        <Route path="crm/customers" element={<Guard perm="crm:read"><Customers /></Guard>} />
        <Route path="crm/customers/:id" element={<CustomerView />} />
        <Route path="crm/query" element={<Guard perm="crm:read"><CustomerQuery /></Guard>} />
        <Route path="crm/stats" element={<Guard perm="crm:read"><CustomerStats /></Guard>} />
        <Route path="crm/grading" element={<Guard perm="crm:grade"><Grading /></Guard>} />
        <Route path="crm/import" element={<Guard perm="crm:import"><CustomerImport /></Guard>} />
        <Route path="crm/webhooks" element={<Guard perm="crm:webhook"><CustomerWebhooks /></Guard>} />
        <Route path="crm/access" element={<Guard perm="crm:access_log"><AccessLog /></Guard>} />
        <Route path="tickets" element={<Tickets />} />
        <Route path="tickets/:id" element={<TicketView />} />
        <Route path="audit" element={<Guard perm="audit:read"><AuditLog /></Guard>} />
        <Route path="e/:entity" element={<EntityListPage />} />
        <Route path="e/:entity/new" element={<EntityCreatePage />} />
        <Route path="e/:entity/:id" element={<EntityDetailPage />} />
        <Route path="e/:entity/:id/edit" element={<EntityEditPage />} />
        <Route path="account/password" element={<ChangePassword />} />
        <Route path="403" element={<Forbidden />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
