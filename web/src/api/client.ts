import type { FieldErrorDetail, Page, Rec } from './types';

// Every failed call becomes an ApiError carrying kefud's stable error code and field.
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
    public details: FieldErrorDetail[] = [],
    public requestId?: string,
    public body?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const SESSION_EXPIRED = 'kefu:session-expired';

export type Query = Record<string, string | number | boolean | undefined | null>;

export function queryString(q?: Query): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

interface CallOptions {
  method?: string;
  body?: unknown;
  rawBody?: BodyInit;
  contentType?: string;
  query?: Query;
  headers?: Record<string, string>;
}

export async function api<T = unknown>(path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  let body: BodyInit | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  } else if (opts.contentType) {
    headers['Content-Type'] = opts.contentType;
  }
  const res = await fetch(`/api/v1${path}${queryString(opts.query)}`, {
    method: opts.method ?? 'GET',
    headers,
    body,
    credentials: 'same-origin',
  });
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const obj = (data ?? {}) as Record<string, unknown>;
    const e = (obj.error ?? {}) as Record<string, unknown>;
    const err = new ApiError(
      res.status,
      String(e.code ?? `http_${res.status}`),
      String(e.message ?? res.statusText),
      e.field ? String(e.field) : undefined,
      (e.details as FieldErrorDetail[]) ?? [],
      e.request_id ? String(e.request_id) : undefined,
      obj,
    );
    // A 401 on anything but the login itself means the session is gone: the shell sends the
    // user to the login page and back here afterwards.
    if (res.status === 401 && path !== '/auth/login') window.dispatchEvent(new CustomEvent(SESSION_EXPIRED));
    throw err;
  }
  return data as T;
}

export function listPage<T = Rec>(entity: string, query?: Query): Promise<Page<T>> {
  return api<Page<T>>(`/${entity}`, { query });
}

// All records matching a filter, page by page (the server caps a page at 500).
export async function listAll<T = Rec>(entity: string, query: Query = {}, cap = 5000): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; out.length < cap; page++) {
    const p = await listPage<T>(entity, { ...query, page, page_size: 500 });
    out.push(...p.items);
    if (p.items.length < 500 || out.length >= p.total) break;
  }
  return out;
}

export function downloadUrl(path: string, q?: Query): string {
  return `/api/v1${path}${queryString(q)}`;
}
