import { useEffect, useRef } from 'react';

// Live events from kefud (`/api/v1/ws`, authenticated by the session cookie): one socket per
// tab, reconnecting with backoff, fanned out to the components listening for each type.
type Handler = (data: unknown) => void;

const handlers = new Map<string, Set<Handler>>();
let socket: WebSocket | null = null;
let wanted = false;
let attempt = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

function open() {
  if (!wanted || socket) return;
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`);
  socket = ws;
  ws.onopen = () => {
    attempt = 0;
    // Whatever happened while disconnected: let every listener refresh.
    handlers.forEach((set) => set.forEach((h) => h(null)));
  };
  ws.onmessage = (m) => {
    try {
      const e = JSON.parse(String(m.data)) as { type: string; data: unknown };
      handlers.get(e.type)?.forEach((h) => h(e.data));
    } catch {
      /* not an event */
    }
  };
  ws.onclose = () => {
    socket = null;
    if (wanted) timer = setTimeout(open, Math.min(30000, 1000 * 2 ** attempt++));
  };
}

export function connectLive() {
  wanted = true;
  open();
}

export function disconnectLive() {
  wanted = false;
  clearTimeout(timer);
  socket?.close();
  socket = null;
}

/** Calls `handler` on each event of `type` (and with null after a reconnect). */
export function useLiveEvent(type: string, handler: Handler) {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const h: Handler = (d) => ref.current(d);
    let set = handlers.get(type);
    if (!set) handlers.set(type, (set = new Set()));
    set.add(h);
    return () => {
      set!.delete(h);
    };
  }, [type]);
}
