import { useEffect, useMemo, useState } from 'react';
import { Spin, Tree } from 'antd';
import type { DataNode } from 'antd/es/tree';
import { api } from '../api/client';
import type { PermissionItem } from '../api/types';
import { useI18n, type MessageKey } from '../i18n';
import { useSession } from '../session';
import type { WidgetProps } from '../entity/widgets';

let catalogue: Promise<PermissionItem[]> | undefined;
function loadCatalogue() {
  catalogue ??= api<{ items: PermissionItem[] }>('/permissions').then((r) => r.items);
  return catalogue;
}

/** Menu and operation permissions of a role, as a checkable tree grouped by menu and entity. */
export function PermissionPicker({ value, onChange, id }: WidgetProps) {
  const { t, pick } = useI18n();
  const { entity } = useSession();
  const [items, setItems] = useState<PermissionItem[] | null>(null);
  useEffect(() => {
    loadCatalogue().then(setItems, () => setItems([]));
  }, []);
  const selected = useMemo(() => (Array.isArray(value) ? (value as string[]) : []), [value]);

  const tree = useMemo<DataNode[]>(() => {
    if (!items) return [];
    const groups = new Map<string, PermissionItem[]>();
    for (const it of items) groups.set(it.group, [...(groups.get(it.group) ?? []), it]);
    const title = (g: string) => {
      const key = `role.group.${g}` as MessageKey;
      if (t(key) !== key) return t(key);
      const e = entity(g);
      return e ? pick(e.label_zh, e.label_en) : g;
    };
    return [...groups.entries()].map(([g, list]) => ({
      key: `group:${g}`,
      title: title(g),
      children: list.map((it) => ({ key: it.code, title: `${pick(it.label_zh, it.label_en)} (${it.code})` })),
    }));
  }, [items, t, pick, entity]);

  // "staff:*" in a stored role checks every staff operation.
  const checked = useMemo(() => {
    if (!items) return [];
    return items
      .filter((it) => {
        if (selected.includes('*') || selected.includes(it.code)) return true;
        const c = it.code.indexOf(':');
        return c > 0 && selected.includes(`${it.code.slice(0, c)}:*`);
      })
      .map((it) => it.code);
  }, [items, selected]);

  if (!items) return <Spin />;
  return (
    <div id={id} role="group" aria-label={t('role.permissions')} style={{ maxHeight: 360, overflow: 'auto', border: '1px solid #f0f0f0', padding: 8 }}>
      <Tree
        checkable
        selectable={false}
        defaultExpandedKeys={['group:menu']}
        treeData={tree}
        checkedKeys={checked}
        onCheck={(keys) => {
          const list = (Array.isArray(keys) ? keys : keys.checked).map(String).filter((k) => !k.startsWith('group:'));
          onChange?.(list.includes('*') ? ['*'] : list);
        }}
      />
    </div>
  );
}
