import type { WfDefinition } from './api';

/**
 * 流程图: the definition laid out in columns by distance from the start, the path the ticket took
 * drawn bold, the nodes where it now waits highlighted. Plain SVG: no editor yet.
 */
export function WorkflowDiagram({ def, trail, current }: { def: WfDefinition; trail: string[]; current: string[] }) {
  const depth: Record<string, number> = { [def.start]: 0 };
  const queue = [def.start];
  while (queue.length) {
    const n = queue.shift()!;
    for (const tr of def.transitions)
      if (tr.from === n && depth[tr.to] === undefined) {
        depth[tr.to] = depth[n] + 1;
        queue.push(tr.to);
      }
  }
  const columns: string[][] = [];
  for (const id of Object.keys(def.nodes)) (columns[depth[id] ?? 0] ??= []).push(id);
  const W = 120, H = 44, GX = 48, GY = 24;
  const pos: Record<string, { x: number; y: number }> = {};
  columns.forEach((col, c) => col.forEach((id, r) => { pos[id] = { x: 8 + c * (W + GX), y: 8 + r * (H + GY) }; }));
  const width = 16 + columns.length * (W + GX), height = 16 + Math.max(...columns.map((c) => c.length)) * (H + GY);
  const taken = new Set<string>();
  for (let i = 1; i < trail.length; i++) taken.add(`${trail[i - 1]}>${trail[i]}`);
  const visited = new Set(trail);
  return (
    <svg width={width} height={height} role="img" data-testid="workflow-diagram" style={{ maxWidth: '100%' }}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="#8c8c8c" />
        </marker>
      </defs>
      {def.transitions.map((tr, i) => {
        const a = pos[tr.from], b = pos[tr.to];
        if (!a || !b) return null;
        const back = b.x <= a.x;
        const x1 = a.x + (back ? W / 2 : W), y1 = a.y + (back ? H : H / 2), x2 = b.x + (back ? W / 2 : 0), y2 = b.y + (back ? H : H / 2);
        const d = back ? `M${x1},${y1} C${x1},${y1 + 40} ${x2},${y2 + 40} ${x2},${y2}` : `M${x1},${y1} L${x2},${y2}`;
        const on = taken.has(`${tr.from}>${tr.to}`);
        return (
          <g key={i}>
            <path d={d} fill="none" stroke={on ? '#1677ff' : '#bfbfbf'} strokeWidth={on ? 2.5 : 1} markerEnd="url(#arrow)" />
            {tr.if && <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 4} fontSize={10} fill="#8c8c8c" textAnchor="middle">{tr.if}</text>}
          </g>
        );
      })}
      {Object.entries(def.nodes).map(([id, n]) => {
        const p = pos[id];
        const now = current.includes(id);
        const round = n.type === 'start' || n.type === 'end';
        return (
          <g key={id} data-testid={`wf-node-${id}`} data-current={now ? 'true' : 'false'} data-visited={visited.has(id) ? 'true' : 'false'}>
            <rect x={p.x} y={p.y} width={W} height={H} rx={round ? 22 : n.type === 'condition' ? 2 : 6}
              fill={now ? '#fff7e6' : visited.has(id) ? '#e6f4ff' : '#fafafa'}
              stroke={now ? '#fa8c16' : visited.has(id) ? '#1677ff' : '#d9d9d9'} strokeWidth={now ? 3 : 1} />
            <text x={p.x + W / 2} y={p.y + 19} fontSize={13} textAnchor="middle">{n.name ?? id}</text>
            <text x={p.x + W / 2} y={p.y + 35} fontSize={10} fill="#8c8c8c" textAnchor="middle">{n.type}</text>
          </g>
        );
      })}
    </svg>
  );
}
