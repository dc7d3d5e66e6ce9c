import { useEffect, useMemo, useState } from 'react';
import { DatePicker, Input, InputNumber, Select, Switch, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { listPage } from '../api/client';
import type { FieldMeta, Rec } from '../api/types';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { rememberTitles, titleOf, useDict, useRefTitle } from './refs';

export const SYSTEM_FIELDS = ['id', 'version', 'archived', 'created_at', 'created_by', 'updated_at', 'updated_by'];

export function formatTime(ms: unknown): string {
  return typeof ms === 'number' && ms > 0 ? dayjs(ms).format('YYYY-MM-DD HH:mm:ss') : '';
}

function RefValue({ field, id }: { field: FieldMeta; id: number }) {
  const { entity } = useSession();
  const title = useRefTitle(entity(field.ref_entity ?? ''), id);
  return <>{title}</>;
}

function DictValue({ field, code }: { field: FieldMeta; code: string }) {
  const { pick } = useI18n();
  const items = useDict(field.dict_type);
  const it = items.find((d) => d.code === code);
  return <>{it ? pick(it.label_zh, it.label_en) : code}</>;
}

/** Read-only rendering of one value, as lists and detail pages show it. */
export function FieldValue({ field, value }: { field: FieldMeta; value: unknown }) {
  const { t, optionLabel } = useI18n();
  if (value === null || value === undefined || value === '') return <Typography.Text type="secondary">-</Typography.Text>;
  switch (field.type) {
    case 'boolean':
      return value ? <Tag color="green">{t('common.yes')}</Tag> : <Tag>{t('common.no')}</Tag>;
    case 'enum':
      return <Tag>{optionLabel(field, value)}</Tag>;
    case 'dict':
      return <DictValue field={field} code={String(value)} />;
    case 'ref':
      return <RefValue field={field} id={Number(value)} />;
    case 'datetime':
      return <>{formatTime(value)}</>;
    case 'money':
      return <>{(Number(value) / 100).toFixed(2)}</>;
    case 'json':
      return <Typography.Text code>{JSON.stringify(value)}</Typography.Text>;
    default:
      return <>{String(value)}</>;
  }
}

/** A searchable select over another entity's records, by its title field. */
export function RefSelect({
  field, value, onChange, id, preset,
}: {
  field: FieldMeta;
  value?: number | null;
  onChange?: (v: number | null) => void;
  id?: string;
  preset?: Record<string, string | number>;
}) {
  const { entity } = useSession();
  const { t } = useI18n();
  const meta = entity(field.ref_entity ?? '');
  const [options, setOptions] = useState<Rec[]>([]);
  const [loading, setLoading] = useState(false);
  const current = useRefTitle(meta, value ?? undefined);

  const search = useMemo(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return (text: string) => {
      if (!meta) return;
      clearTimeout(timer);
      timer = setTimeout(async () => {
        setLoading(true);
        try {
          const searchable = meta.fields.some((f) => f.searchable);
          const q: Record<string, string | number> = { page_size: 50, ...(preset ?? {}) };
          if (text) {
            if (searchable) q.q = text;
            else q[`${meta.title_field}__like`] = text;
          }
          if (meta.default_sort) q.sort = meta.default_sort;
          const page = await listPage(meta.name, q);
          rememberTitles(meta, page.items);
          setOptions(page.items);
        } catch {
          setOptions([]);
        } finally {
          setLoading(false);
        }
      }, 250);
    };
  }, [meta, preset]);

  useEffect(() => search(''), [search]);

  if (!meta) {
    return <InputNumber id={id} value={value ?? undefined} onChange={(v) => onChange?.(v === null ? null : Number(v))} />;
  }
  const opts = options.map((r) => ({ value: r.id, label: titleOf(meta, r) }));
  if (value && !opts.some((o) => o.value === value)) opts.unshift({ value, label: current ?? `#${value}` });
  return (
    <Select
      id={id}
      showSearch
      allowClear
      filterOption={false}
      loading={loading}
      value={value ?? undefined}
      placeholder={t('common.search')}
      onSearch={search}
      onChange={(v) => onChange?.(v === undefined ? null : (v as number))}
      options={opts}
      style={{ minWidth: 180 }}
    />
  );
}

function DictSelect({ field, value, onChange, id }: { field: FieldMeta; value?: string; onChange?: (v: string | null) => void; id?: string }) {
  const { pick } = useI18n();
  const items = useDict(field.dict_type);
  return (
    <Select
      id={id}
      allowClear
      value={value ?? undefined}
      onChange={(v) => onChange?.(v ?? null)}
      options={items.map((d) => ({ value: d.code, label: pick(d.label_zh, d.label_en) }))}
      style={{ minWidth: 160 }}
    />
  );
}

/** JSON edited as text; the value stays a parsed object so the server sees real JSON. */
function JsonInput({ value, onChange, id }: { value?: unknown; onChange?: (v: unknown) => void; id?: string }) {
  const [text, setText] = useState(() => (value === undefined || value === null ? '' : JSON.stringify(value, null, 2)));
  const { t } = useI18n();
  const [bad, setBad] = useState(false);
  return (
    <>
      <Input.TextArea
        id={id}
        rows={4}
        value={text}
        status={bad ? 'error' : undefined}
        onChange={(e) => {
          setText(e.target.value);
          if (!e.target.value.trim()) {
            setBad(false);
            onChange?.(null);
            return;
          }
          try {
            onChange?.(JSON.parse(e.target.value));
            setBad(false);
          } catch {
            setBad(true);
          }
        }}
      />
      {bad && <Typography.Text type="danger">{t('common.json_invalid')}</Typography.Text>}
    </>
  );
}

interface InputProps { field: FieldMeta; value?: unknown; onChange?: (v: unknown) => void; id?: string; disabled?: boolean }

/** The form control for one field type. Antd's Form.Item passes id, value and onChange. */
export function FieldInput({ field, value, onChange, id, disabled }: InputProps) {
  const { optionLabel } = useI18n();
  switch (field.type) {
    case 'text':
      return <Input.TextArea id={id} disabled={disabled} rows={3} maxLength={field.max_length} value={(value as string) ?? ''} onChange={(e) => onChange?.(e.target.value)} />;
    case 'integer':
      return <InputNumber id={id} disabled={disabled} min={field.min} max={field.max} precision={0} value={value as number} onChange={(v) => onChange?.(v)} style={{ width: '100%' }} />;
    case 'money':
      return (
        <InputNumber
          id={id}
          disabled={disabled}
          precision={2}
          value={value === null || value === undefined ? undefined : Number(value) / 100}
          onChange={(v) => onChange?.(v === null ? null : Math.round(Number(v) * 100))}
          style={{ width: '100%' }}
        />
      );
    case 'boolean':
      return <Switch id={id} disabled={disabled} checked={Boolean(value)} onChange={(v) => onChange?.(v)} />;
    case 'date':
      return (
        <DatePicker
          id={id}
          disabled={disabled}
          value={value ? dayjs(String(value)) : null}
          onChange={(d) => onChange?.(d ? d.format('YYYY-MM-DD') : null)}
          style={{ width: '100%' }}
        />
      );
    case 'datetime':
      return (
        <DatePicker
          id={id}
          showTime
          disabled={disabled}
          value={typeof value === 'number' ? dayjs(value) : null}
          onChange={(d) => onChange?.(d ? d.valueOf() : null)}
          style={{ width: '100%' }}
        />
      );
    case 'enum':
      return (
        <Select
          id={id}
          disabled={disabled}
          allowClear={!field.required}
          value={(value as string) ?? undefined}
          onChange={(v) => onChange?.(v ?? null)}
          options={(field.options ?? []).map((o) => ({ value: o, label: optionLabel(field, o) }))}
        />
      );
    case 'dict':
      return <DictSelect field={field} id={id} value={value as string} onChange={onChange} />;
    case 'ref':
      return <RefSelect field={field} id={id} value={value as number} onChange={onChange} />;
    case 'json':
      return <JsonInput id={id} value={value} onChange={onChange} />;
    default:
      return <Input id={id} disabled={disabled} maxLength={field.max_length} value={(value as string) ?? ''} onChange={(e) => onChange?.(e.target.value)} />;
  }
}

