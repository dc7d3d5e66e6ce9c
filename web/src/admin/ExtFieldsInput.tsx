import { useEffect, useState } from 'react';
import { Col, DatePicker, Input, InputNumber, Row, Select, Typography } from 'antd';
import dayjs from 'dayjs';
import { listAll } from '../api/client';
import type { Rec } from '../api/types';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import type { WidgetProps } from '../entity/widgets';

/** 员工扩展资料: one control per field an administrator defined in staff_ext_field. */
export function ExtFieldsInput({ value, onChange, id }: WidgetProps) {
  const { pick, t } = useI18n();
  const { entity } = useSession();
  const [defs, setDefs] = useState<Rec[]>([]);
  const readable = entity('staff_ext_field') !== undefined;
  useEffect(() => {
    if (readable) listAll('staff_ext_field').then(setDefs, () => setDefs([]));
  }, [readable]);
  const obj = value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const set = (key: string, v: unknown) => {
    const next = { ...obj };
    if (v === null || v === undefined || v === '') delete next[key];
    else next[key] = v;
    onChange?.(Object.keys(next).length ? next : null);
  };
  if (!defs.length) return <Typography.Text type="secondary" id={id}>{t('common.none')}</Typography.Text>;
  return (
    <Row gutter={12} id={id}>
      {defs.map((d) => {
        const key = String(d.key);
        const label = pick(String(d.label_zh ?? ''), String(d.label_en ?? '')) + (d.required ? ' *' : '');
        const inputId = `ext_${key}`;
        let control;
        switch (d.value_type) {
          case 'integer':
            control = <InputNumber id={inputId} precision={0} style={{ width: '100%' }} value={obj[key] as number} onChange={(v) => set(key, v)} />;
            break;
          case 'date':
            control = <DatePicker id={inputId} style={{ width: '100%' }} value={obj[key] ? dayjs(String(obj[key])) : null} onChange={(v) => set(key, v ? v.format('YYYY-MM-DD') : null)} />;
            break;
          case 'enum':
            control = (
              <Select id={inputId} allowClear value={obj[key] as string} onChange={(v) => set(key, v)}
                options={String(d.options ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((s) => ({ value: s, label: s }))} />
            );
            break;
          default:
            control = <Input id={inputId} value={(obj[key] as string) ?? ''} onChange={(e) => set(key, e.target.value)} />;
        }
        return (
          <Col key={key} xs={24} md={12} xl={8} style={{ marginBottom: 8 }}>
            <label htmlFor={inputId} style={{ display: 'block', marginBottom: 4 }}>{label}</label>
            {control}
          </Col>
        );
      })}
    </Row>
  );
}
