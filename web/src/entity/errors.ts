import type { FormInstance } from 'antd';
import { ApiError } from '../api/client';
import type { EntityMeta } from '../api/types';
import type { MessageKey, Vars } from '../i18n';

type T = (key: MessageKey, vars?: Vars) => string;

function hasKey(t: T, key: string): key is MessageKey {
  return t(key as MessageKey) !== key;
}

/** A message for a user, in his language where kefud's error code is known. */
export function errorText(err: unknown, t: T, fieldName?: string): string {
  if (err instanceof ApiError) {
    const key = `error.${err.code}`;
    if (hasKey(t, key)) return t(key, { field: fieldName ?? err.field ?? '' });
    if (err.status === 403) return t('error.forbidden');
    if (err.status === 404) return t('error.not_found');
    return t('error.generic', { message: err.message });
  }
  if (err instanceof TypeError) return t('error.network');
  return t('error.generic', { message: String(err) });
}

/**
 * Puts kefud's per-field errors on the form's fields. Returns the errors that belong to no
 * field in the form so the caller can show them elsewhere.
 */
export function applyFieldErrors(
  form: FormInstance,
  err: unknown,
  t: T,
  label: (name: string) => string | undefined,
  formFields: string[],
): string[] {
  if (!(err instanceof ApiError)) return [errorText(err, t)];
  const details = err.details.length ? err.details : err.field ? [{ field: err.field, code: err.code, message: err.message }] : [];
  const rest: string[] = [];
  const byField = new Map<string, string[]>();
  for (const d of details) {
    const text = hasKey(t, `error.${d.code}`) ? t(`error.${d.code}` as MessageKey, { field: label(d.field) ?? d.field }) : d.message;
    if (formFields.includes(d.field)) byField.set(d.field, [...(byField.get(d.field) ?? []), text]);
    else rest.push(text);
  }
  form.setFields([...byField.entries()].map(([name, errors]) => ({ name, errors })));
  if (!details.length) rest.push(errorText(err, t));
  return rest;
}

export function fieldLabeler(meta: EntityMeta | undefined, fieldLabel: (f: EntityMeta['fields'][number]) => string) {
  return (name: string) => {
    const f = meta?.fields.find((x) => x.name === name);
    return f ? fieldLabel(f) : undefined;
  };
}
