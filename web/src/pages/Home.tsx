import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { Card, Col, Row, Statistic, Typography } from 'antd';
import { PageContainer } from '@ant-design/pro-components';
import { api, listAll } from '../api/client';
import type { ChangeRequest, FieldMeta, Rec } from '../api/types';
import { useI18n, type MessageKey } from '../i18n';
import { useSession } from '../session';
import { Chart } from './Chart';
import { useLiveEvent } from '../live';

interface Group { key: string | number | null; count: number }

export function Home() {
  const { t, optionLabel } = useI18n();
  const { me, entity, has } = useSession();
  const staff = entity('staff');
  const orgs = entity('org_unit');
  const [byOrg, setByOrg] = useState<Group[]>([]);
  const [byStatus, setByStatus] = useState<Group[]>([]);
  const [units, setUnits] = useState<Map<number, string>>(new Map());
  const [reviews, setReviews] = useState<ChangeRequest[]>([]);

  useEffect(() => {
    if (staff) {
      api<{ groups: Group[] }>('/staff/stats', { query: { by: 'org_id' } }).then((r) => setByOrg(r.groups), () => undefined);
      api<{ groups: Group[] }>('/staff/stats', { query: { by: 'status' } }).then((r) => setByStatus(r.groups), () => undefined);
    }
    if (orgs) listAll<Rec>('org_unit').then((l) => setUnits(new Map(l.map((u) => [u.id, String(u.name)]))), () => undefined);
    api<{ items: ChangeRequest[] }>('/reviews').then((r) => setReviews(r.items), () => undefined);
  }, [staff, orgs]);

  useLiveEvent('review.changed', () => {
    api<{ items: ChangeRequest[] }>('/reviews').then((r) => setReviews(r.items), () => undefined);
  });

  const statusField = staff?.fields.find((f) => f.name === 'status') as FieldMeta | undefined;
  const orgOption = useMemo(() => {
    const rows = [...byOrg].sort((a, b) => b.count - a.count).slice(0, 15);
    return {
      tooltip: {},
      animationDuration: 300,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', inverse: true, data: rows.map((g) => (g.key === null ? '-' : units.get(Number(g.key)) ?? `#${g.key}`)) },
      series: [{ type: 'bar', data: rows.map((g) => g.count), itemStyle: { color: '#1677ff' } }],
    };
  }, [byOrg, units]);
  const statusOption = useMemo(() => ({
    tooltip: { trigger: 'item' },
    animationDuration: 300,
    legend: { bottom: 0 },
    series: [{ type: 'pie', radius: ['40%', '70%'], data: byStatus.map((g) => ({ name: statusField ? optionLabel(statusField, g.key) : String(g.key), value: g.count })) }],
  }), [byStatus, statusField, optionLabel]);

  const todo = reviews.filter((r) => r.can_decide).length;
  const mine = reviews.filter((r) => r.submitted_by === me?.id && (r.status === 'pending' || r.status === 'first_approved')).length;
  return (
    <PageContainer title={t('home.welcome', { name: me?.name ?? '' })}
      subTitle={<Typography.Text type="secondary">{t('home.scope', { scope: t(`scope.${me?.data_scope ?? 'self'}` as MessageKey) })}</Typography.Text>}>
      <Row gutter={[16, 16]}>
        <Col xs={24} md={12}>
          <Card><Link to="/reviews"><Statistic title={t('home.pending_reviews')} value={todo} /></Link></Card>
        </Col>
        <Col xs={24} md={12}>
          <Card><Link to="/reviews?tab=mine"><Statistic title={t('home.my_submissions')} value={mine} /></Link></Card>
        </Col>
        {staff && has('staff:read') && (
          <>
            <Col xs={24} lg={14}>
              <Card title={t('home.staff_by_org')}><Chart option={orgOption} label={t('home.staff_by_org')} /></Card>
            </Col>
            <Col xs={24} lg={10}>
              <Card title={t('home.staff_by_status')}><Chart option={statusOption} label={t('home.staff_by_status')} /></Card>
            </Col>
          </>
        )}
      </Row>
    </PageContainer>
  );
}
