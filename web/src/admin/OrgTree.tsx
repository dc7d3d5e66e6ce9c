import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { Button, Card, Col, Empty, Input, Row, Space, Table, Tree } from 'antd';
import type { DataNode } from 'antd/es/tree';
import { PlusOutlined } from '@ant-design/icons';
import { PageContainer } from '@ant-design/pro-components';
import { listAll, listPage } from '../api/client';
import type { Rec } from '../api/types';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { EntityForm } from '../entity/EntityForm';
import { forgetTitles } from '../entity/refs';
import { FieldValue } from '../entity/fields';
import { Forbidden } from '../pages/Status';

type Mode = { kind: 'edit'; id: number } | { kind: 'create'; parent: number | null } | { kind: 'none' };

/** 组织机构: the tree on the left, the selected unit's form and staff on the right (no dragging). */
export function OrgTree() {
  const { t, optionLabel, fieldLabel } = useI18n();
  const { entity } = useSession();
  const meta = entity('org_unit');
  const staffMeta = entity('staff');
  const [units, setUnits] = useState<Rec[]>([]);
  const [mode, setMode] = useState<Mode>({ kind: 'none' });
  const [filter, setFilter] = useState('');
  const [staff, setStaff] = useState<Rec[]>([]);

  const load = useCallback(() => {
    // Siblings in their configured order (排序), then by creation.
    const order = (a: Rec, b: Rec) => Number(a.sort_order ?? 0) - Number(b.sort_order ?? 0) || a.id - b.id;
    listAll<Rec>('org_unit').then((l) => setUnits([...l].sort(order)), () => setUnits([]));
  }, []);
  useEffect(load, [load]);

  const kindField = meta?.fields.find((f) => f.name === 'kind');
  const tree = useMemo<DataNode[]>(() => {
    const nodes = new Map<number, DataNode & { children: DataNode[] }>();
    const match = (u: Rec) => !filter || String(u.name).includes(filter) || String(u.code).toLowerCase().includes(filter.toLowerCase());
    for (const u of units) {
      const kind = kindField ? optionLabel(kindField, u.kind) : '';
      nodes.set(u.id, { key: u.id, title: <span data-unit={String(u.code)}>{String(u.name)} <small style={{ color: '#999' }}>{kind}</small></span>, children: [] });
    }
    const roots: DataNode[] = [];
    for (const u of units) {
      const n = nodes.get(u.id)!;
      const parent = u.parent_id ? nodes.get(Number(u.parent_id)) : undefined;
      if (parent) parent.children.push(n);
      else roots.push(n);
    }
    if (!filter) return roots;
    // With a filter, keep matching units and the path down to them.
    const keep = (n: DataNode): DataNode | null => {
      const u = units.find((x) => x.id === n.key);
      const kids = (n.children ?? []).map(keep).filter(Boolean) as DataNode[];
      return (u && match(u)) || kids.length ? { ...n, children: kids } : null;
    };
    return roots.map(keep).filter(Boolean) as DataNode[];
  }, [units, filter, kindField, optionLabel]);

  const selected = mode.kind === 'edit' ? units.find((u) => u.id === mode.id) : undefined;
  useEffect(() => {
    if (!selected || !staffMeta) return setStaff([]);
    listPage('staff', { org_id: selected.id, page_size: 100, sort: 'username' }).then((p) => setStaff(p.items), () => setStaff([]));
  }, [selected, staffMeta]);

  if (!meta) return <Forbidden />;
  const canCreate = meta.actions.includes('create');
  const saved = () => {
    forgetTitles('org_unit');
    load();
  };
  const preset = mode.kind === 'create' && mode.parent ? { parent_id: mode.parent } : undefined;

  return (
    <PageContainer title={t('org.tree')}>
      <Row gutter={16}>
        <Col xs={24} md={9} xl={7}>
          <Card size="small" title={t('org.tree')}
            extra={canCreate && <Button size="small" icon={<PlusOutlined />} onClick={() => setMode({ kind: 'create', parent: null })}>{t('org.add_root')}</Button>}>
            <Input.Search allowClear placeholder={t('org.search')} aria-label={t('org.search')} onChange={(e) => setFilter(e.target.value)} style={{ marginBottom: 8 }} />
            <Tree
              treeData={tree}
              defaultExpandAll
              key={`${units.length}:${filter}`}
              blockNode
              selectedKeys={mode.kind === 'edit' ? [mode.id] : []}
              onSelect={(keys) => keys.length && setMode({ kind: 'edit', id: Number(keys[0]) })}
              style={{ maxHeight: 'calc(100vh - 260px)', overflow: 'auto' }}
            />
          </Card>
        </Col>
        <Col xs={24} md={15} xl={17}>
          {mode.kind === 'none' && <Card><Empty description={t('org.select_hint')} /></Card>}
          {mode.kind === 'create' && (
            <Card title={t('org.add_child')}>
              <EntityForm key={`new:${mode.parent}`} meta={meta} preset={preset}
                onSaved={(r) => {
                  saved();
                  if ('record' in r) setMode({ kind: 'edit', id: r.record.id });
                }}
                onCancel={() => setMode({ kind: 'none' })} />
            </Card>
          )}
          {selected && (
            <Space direction="vertical" style={{ width: '100%' }}>
              <Card title={String(selected.name)}
                extra={canCreate && <Button icon={<PlusOutlined />} onClick={() => setMode({ kind: 'create', parent: selected.id })}>{t('org.add_child')}</Button>}>
                {meta.actions.includes('update')
                  ? <EntityForm key={`${selected.id}:${selected.version}`} meta={meta} record={selected} onSaved={saved} />
                  : <Link to={`/e/org_unit/${selected.id}`}>{t('common.view')}</Link>}
              </Card>
              {staffMeta && (
                <Card title={t('org.staff')} size="small">
                  <Table<Rec> size="small" rowKey="id" dataSource={staff} pagination={{ pageSize: 10 }}
                    columns={['username', 'name', 'position_id', 'status'].map((name) => {
                      const f = staffMeta.fields.find((x) => x.name === name)!;
                      return {
                        title: fieldLabel(f),
                        dataIndex: name,
                        render: (_: unknown, r: Rec) => name === 'username'
                          ? <Link to={`/e/staff/${r.id}`}>{String(r.username)}</Link>
                          : <FieldValue field={f} value={r[name]} />,
                      };
                    })} />
                </Card>
              )}
            </Space>
          )}
        </Col>
      </Row>
    </PageContainer>
  );
}
