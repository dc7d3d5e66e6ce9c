import { useEffect, useState, useSyncExternalStore } from 'react';
import { listAll, listPage } from '../api/client';
import type { EntityMeta, Rec } from '../api/types';

// Titles of referenced records ("上级机构: 上海分公司" rather than "3"). Look-ups made in the
// same tick are batched into one `id__in` request per entity; results are cached for the page's life.
const titles = new Map<string, Map<number, string>>();
const pending = new Map<string, { meta: EntityMeta; ids: Set<number> }>();
const listeners = new Set<() => void>();
let version = 0;
let scheduled = false;

function notify() {
  version++;
  listeners.forEach((l) => l());
}

export function titleOf(meta: EntityMeta, r: Rec): string {
  const v = r[meta.title_field];
  return v === null || v === undefined || v === '' ? `#${r.id}` : String(v);
}

export function rememberTitles(meta: EntityMeta, records: Rec[]) {
  let m = titles.get(meta.name);
  if (!m) titles.set(meta.name, (m = new Map()));
  for (const r of records) m.set(r.id, titleOf(meta, r));
  notify();
}

export function forgetTitles(entity: string) {
  titles.delete(entity);
  notify();
}

async function flush() {
  scheduled = false;
  const jobs = [...pending.values()];
  pending.clear();
  for (const { meta, ids } of jobs) {
    const list = [...ids];
    for (let i = 0; i < list.length; i += 100) {
      const chunk = list.slice(i, i + 100);
      try {
        const page = await listPage(meta.name, { id__in: chunk.join(','), include_archived: true, page_size: 100 });
        rememberTitles(meta, page.items);
        const m = titles.get(meta.name)!;
        // Ids the caller may not see stay as "#id" instead of being asked for again.
        for (const id of chunk) if (!m.has(id)) m.set(id, `#${id}`);
      } catch {
        const m = titles.get(meta.name) ?? new Map<number, string>();
        titles.set(meta.name, m);
        for (const id of chunk) m.set(id, `#${id}`);
      }
    }
  }
  notify();
}

function request(meta: EntityMeta, id: number) {
  let p = pending.get(meta.name);
  if (!p) pending.set(meta.name, (p = { meta, ids: new Set() }));
  p.ids.add(id);
  if (!scheduled) {
    scheduled = true;
    setTimeout(() => void flush(), 0);
  }
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The title of one referenced record, or "#id" until it arrives or when it cannot be read. */
export function useRefTitle(meta: EntityMeta | undefined, id: number | null | undefined): string | undefined {
  useSyncExternalStore(subscribe, () => version);
  if (id === null || id === undefined) return undefined;
  if (!meta) return `#${id}`;
  const t = titles.get(meta.name)?.get(id);
  if (t === undefined) {
    request(meta, id);
    return `#${id}`;
  }
  return t;
}

export interface DictItem { code: string; label_zh: string; label_en: string }
const dicts = new Map<string, Promise<DictItem[]>>();

export function loadDict(type: string): Promise<DictItem[]> {
  let p = dicts.get(type);
  if (!p) {
    p = listAll<Rec>('dict_item', { dict_type: type, enabled: true, sort: 'sort_order' }).then((items) =>
      items.map((r) => ({ code: String(r.code), label_zh: String(r.label_zh ?? ''), label_en: String(r.label_en ?? '') })),
    );
    p.catch(() => dicts.delete(type));
    dicts.set(type, p);
  }
  return p;
}

export function useDict(type: string | undefined): DictItem[] {
  const [items, setItems] = useState<DictItem[]>([]);
  useEffect(() => {
    if (!type) return;
    let live = true;
    loadDict(type).then((d) => live && setItems(d), () => live && setItems([]));
    return () => {
      live = false;
    };
  }, [type]);
  return items;
}
