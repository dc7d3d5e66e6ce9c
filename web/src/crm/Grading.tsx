import { useEffect, useMemo, useState } from 'react';
import { App as AntApp, Alert, Button, Card, Col, Form, Input, InputNumber, Popconfirm, Row, Select, Space, Statistic, Table, Tag } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { PageContainer } from '@ant-design/pro-components';
import { api, ApiError } from '../api/client';
import { errorText } from '../entity/errors';
import { useI18n, type MessageKey } from '../i18n';
import { Chart } from '../pages/Chart';
import type { GradingModel, Indicator, TrialResult } from './api';

const TIERS = [0, 1, 2, 3, 4];
const DEFAULT_MODEL: GradingModel = {
  indicators: [
    { code: 'assets_fen', weight: 60, full_mark: 200000000 },
    { code: 'commission_fen', weight: 30, full_mark: 3000000 },
    { code: 'tenure_days', weight: 10, full_mark: 3650 },
  ],
  thresholds: [20, 45, 70, 90],
};

interface Run { id: number; note: string; customers: number; changed: number; per_tier: number[]; at: number; name: string | null; model: GradingModel }
interface FormRow { code: string; weight: number; full: number }

/**
 * 客户分级: pick indicators, weigh them, set each tier's lowest score; 试算 shows how many customers
 * land in each tier (against today's tiers) before anything changes; adjust and recalculate until
 * satisfied, then apply as a run. Money indicators are typed in yuan and sent in fen.
 */
export function Grading() {
  const { t, pick } = useI18n();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm();
  const [catalogue, setCatalogue] = useState<Indicator[]>([]);
  const [trial, setTrial] = useState<TrialResult | null>(null);
  const [runs, setRuns] = useState<Run[]>([]);
  const [problems, setProblems] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const unitOf = (code: string) => catalogue.find((i) => i.code === code)?.unit ?? 'count';

  const loadRuns = () => api<{ items: Run[] }>('/crm/grading/runs').then((r) => setRuns(r.items), () => undefined);
  useEffect(() => {
    api<{ items: Indicator[] }>('/crm/grading/indicators').then((r) => setCatalogue(r.items), () => undefined);
    api<{ items: Run[] }>('/crm/grading/runs').then((r) => {
      setRuns(r.items);
      const m = r.items[0]?.model ?? DEFAULT_MODEL;
      form.setFieldsValue({
        indicators: m.indicators.map((i) => ({ code: i.code, weight: i.weight, full: i.code.endsWith('_fen') ? i.full_mark / 100 : i.full_mark })),
        thresholds: m.thresholds,
      });
    }, () => undefined);
  }, [form]);

  const model = (): GradingModel => {
    const v = form.getFieldsValue();
    return {
      indicators: (v.indicators ?? []).map((r: FormRow) => ({
        code: r.code, weight: r.weight, full_mark: unitOf(r.code) === 'fen' ? Math.round((r.full ?? 0) * 100) : r.full,
      })),
      thresholds: v.thresholds ?? [],
    };
  };
  const submit = async (apply: boolean) => {
    setBusy(true);
    setProblems([]);
    try {
      if (apply) {
        const r = await api<TrialResult>('/crm/grading/runs', { method: 'POST', body: { model: model(), note: form.getFieldValue('note') ?? '' } });
        setTrial(r);
        message.success(t('crm.grading.applied', { n: r.up + r.down }));
        loadRuns();
      } else {
        setTrial(await api<TrialResult>('/crm/grading/trial', { method: 'POST', body: { model: model() } }));
      }
    } catch (e) {
      if (e instanceof ApiError && e.details.length) setProblems(e.details.map((d) => `${d.field}: ${errorText(new ApiError(422, d.code, d.message, d.field), t, d.field)}`));
      else message.error(errorText(e, t));
    } finally {
      setBusy(false);
    }
  };
  const weights = Form.useWatch('indicators', form) as FormRow[] | undefined;
  const sum = (weights ?? []).reduce((s, r) => s + (r?.weight ?? 0), 0);

  const option = useMemo(() => {
    if (!trial) return null;
    const current = TIERS.map((i) => trial.moves[i].reduce((a, b) => a + b, 0));
    return {
      tooltip: {},
      legend: { data: [t('crm.grading.current'), t('crm.grading.trial')] },
      xAxis: { type: 'category', data: TIERS.map((i) => t(`crm.tier.${i}` as MessageKey)) },
      yAxis: { type: 'value' },
      series: [
        { name: t('crm.grading.current'), type: 'bar', data: current },
        { name: t('crm.grading.trial'), type: 'bar', data: trial.per_tier, label: { show: true, position: 'top' } },
      ],
    };
  }, [trial, t]);

  return (
    <PageContainer title={t('crm.grading')}>
      <Row gutter={16}>
        <Col xs={24} xl={11}>
          <Card size="small" title={t('crm.grading.model')}>
            <Form form={form} layout="vertical" data-testid="grading-form">
              <Form.List name="indicators">
                {(fields, { add, remove }) => (
                  <>
                    {fields.map((f, i) => (
                      <Space key={f.key} align="baseline" style={{ display: 'flex' }}>
                        <Form.Item name={[f.name, 'code']} rules={[{ required: true }]}>
                          <Select style={{ width: 160 }} data-testid={`indicator-${i}`}
                            options={catalogue.map((c) => ({ value: c.code, label: pick(c.label_zh, c.label_en) }))} />
                        </Form.Item>
                        <Form.Item name={[f.name, 'weight']} rules={[{ required: true }]}>
                          <InputNumber min={1} max={100} addonAfter="%" style={{ width: 110 }} data-testid={`weight-${i}`} />
                        </Form.Item>
                        <Form.Item noStyle shouldUpdate>
                          {() => (
                            <Form.Item name={[f.name, 'full']} rules={[{ required: true }]}>
                              <InputNumber min={1} style={{ width: 150 }} placeholder={t('crm.grading.full_mark')}
                                addonAfter={t(`crm.unit.${unitOf(form.getFieldValue(['indicators', f.name, 'code']))}` as MessageKey)} />
                            </Form.Item>
                          )}
                        </Form.Item>
                        <MinusCircleOutlined onClick={() => remove(f.name)} />
                      </Space>
                    ))}
                    <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ weight: 10, full: 1 })} disabled={fields.length >= 10}>
                      {t('crm.grading.add_indicator')}
                    </Button>
                    <div style={{ margin: '8px 0' }}>
                      <Tag color={sum === 100 ? 'green' : 'red'} data-testid="weight-sum">{t('crm.grading.weight_sum', { n: sum })}</Tag>
                    </div>
                  </>
                )}
              </Form.List>
              <Form.Item label={t('crm.grading.thresholds')}>
                <Space wrap>
                  {[0, 1, 2, 3].map((i) => (
                    <Form.Item key={i} name={['thresholds', i]} noStyle>
                      <InputNumber min={0} max={100} step={0.5} addonBefore={t(`crm.tier.${i + 1}` as MessageKey)} style={{ width: 140 }}
                        data-testid={`threshold-${i}`} />
                    </Form.Item>
                  ))}
                </Space>
              </Form.Item>
              <Form.Item name="note" label={t('crm.grading.note')}><Input maxLength={200} /></Form.Item>
              {problems.length > 0 && <Alert type="error" showIcon message={problems.join('；')} style={{ marginBottom: 8 }} data-testid="grading-errors" />}
              <Space>
                <Button type="primary" loading={busy} onClick={() => submit(false)} data-testid="trial">{t('crm.grading.run_trial')}</Button>
                <Popconfirm title={t('crm.grading.confirm_apply')} onConfirm={() => submit(true)} disabled={!trial}>
                  <Button danger disabled={!trial || busy} data-testid="apply">{t('crm.grading.apply')}</Button>
                </Popconfirm>
              </Space>
            </Form>
          </Card>
        </Col>
        <Col xs={24} xl={13}>
          <Card size="small" title={t('crm.grading.result')} data-testid="trial-result">
            {trial && option ? (
              <>
                <Space size="large" style={{ marginBottom: 8 }}>
                  <Statistic title={t('crm.grading.customers')} value={trial.customers} />
                  <Statistic title={t('crm.grading.up')} value={trial.up} valueStyle={{ color: '#3f8600' }} />
                  <Statistic title={t('crm.grading.down')} value={trial.down} valueStyle={{ color: '#cf1322' }} />
                  <Statistic title={t('crm.grading.same')} value={trial.same} />
                </Space>
                <Chart option={option} label={t('crm.grading.chart')} />
                <div data-testid="per-tier" data-counts={trial.per_tier.join(',')} />
              </>
            ) : t('crm.grading.no_trial')}
          </Card>
          <Card size="small" title={t('crm.grading.runs')} style={{ marginTop: 16 }}>
            <Table<Run> size="small" rowKey="id" pagination={false} dataSource={runs}
              columns={[
                { title: '#', dataIndex: 'id' },
                { title: t('crm.at'), dataIndex: 'at', render: (x: number) => new Date(x).toLocaleString() },
                { title: t('crm.grading.by'), dataIndex: 'name', render: (x: string | null) => x ?? 'system' },
                { title: t('crm.grading.customers'), dataIndex: 'customers' },
                { title: t('crm.grading.changed'), dataIndex: 'changed' },
                { title: t('crm.grading.note'), dataIndex: 'note' },
              ]} />
          </Card>
        </Col>
      </Row>
    </PageContainer>
  );
}
