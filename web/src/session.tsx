import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, SESSION_EXPIRED } from './api/client';
import { connectLive, disconnectLive } from './live';
import type { EntityMeta, Me } from './api/types';

// The signed-in user and the entities he may read. Permission checks mirror the server's
// Principal::has ("*", exact, or "entity:*"); the server still enforces every one.
export function hasPermission(perms: string[] | undefined, perm: string): boolean {
  if (!perms) return false;
  if (perms.includes('*') || perms.includes(perm)) return true;
  const colon = perm.indexOf(':');
  return colon > 0 && perms.includes(`${perm.slice(0, colon)}:*`);
}

interface Session {
  me: Me | null;
  loading: boolean;
  expired: boolean;
  entities: EntityMeta[];
  entity(name: string): EntityMeta | undefined;
  has(perm: string): boolean;
  login(username: string, password: string): Promise<Me>;
  logout(): Promise<void>;
  refresh(): Promise<void>;
}

const Ctx = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [entities, setEntities] = useState<EntityMeta[]>([]);
  const [loading, setLoading] = useState(true);
  const [expired, setExpired] = useState(false);

  const load = useCallback(async () => {
    try {
      const m = await api<Me>('/auth/me');
      const meta = await api<{ entities: EntityMeta[] }>('/meta');
      setMe(m);
      setEntities(meta.entities);
      setExpired(false);
    } catch {
      setMe(null);
      setEntities([]);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
    const onExpired = () => {
      setMe((prev) => {
        if (prev) setExpired(true);
        return null;
      });
    };
    window.addEventListener(SESSION_EXPIRED, onExpired);
    return () => window.removeEventListener(SESSION_EXPIRED, onExpired);
  }, [load]);

  // Live events only for a signed-in user whose password is not waiting to be changed.
  useEffect(() => {
    if (me && !me.must_change_password) connectLive();
    else disconnectLive();
  }, [me]);

  const value = useMemo<Session>(
    () => ({
      me,
      loading,
      expired,
      entities,
      entity: (name) => entities.find((e) => e.name === name),
      has: (perm) => hasPermission(me?.permissions, perm),
      login: async (username, password) => {
        const r = await api<{ user: Me }>('/auth/login', { method: 'POST', body: { username, password } });
        await load();
        return r.user;
      },
      logout: async () => {
        try {
          await api('/auth/logout', { method: 'POST' });
        } finally {
          setMe(null);
          setEntities([]);
          setExpired(false);
        }
      },
      refresh: load,
    }),
    [me, loading, expired, entities, load],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}
