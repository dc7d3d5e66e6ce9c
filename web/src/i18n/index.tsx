import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import zhCN from './zh-CN';
import enUS from './en-US';
import type { FieldMeta } from '../api/types';

export type Locale = 'zh-CN' | 'en-US';
export type MessageKey = keyof typeof zhCN;
export type Vars = Record<string, string | number>;

const catalogues: Record<Locale, Record<MessageKey, string>> = { 'zh-CN': zhCN, 'en-US': enUS };
const STORAGE_KEY = 'kefu.locale';

function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY);
  return saved === 'en-US' ? 'en-US' : 'zh-CN';
}

export function format(template: string, vars?: Vars): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

interface I18n {
  locale: Locale;
  setLocale(l: Locale): void;
  t(key: MessageKey, vars?: Vars): string;
  /** Picks the server-provided label for the current language. */
  pick(zh: string | undefined, en: string | undefined): string;
  fieldLabel(f: FieldMeta): string;
  optionLabel(f: FieldMeta, value: unknown): string;
}

const Ctx = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  dayjs.locale(locale === 'zh-CN' ? 'zh-cn' : 'en');
  const setLocale = useCallback((l: Locale) => {
    localStorage.setItem(STORAGE_KEY, l);
    document.documentElement.lang = l;
    setLocaleState(l);
  }, []);
  const value = useMemo<I18n>(() => {
    const cat = catalogues[locale];
    const pick = (zh?: string, en?: string) => (locale === 'zh-CN' ? zh || en || '' : en || zh || '');
    return {
      locale,
      setLocale,
      t: (key, vars) => format(cat[key] ?? key, vars),
      pick,
      fieldLabel: (f) => pick(f.label_zh, f.label_en),
      optionLabel: (f, v) => {
        const o = f.option_labels?.find((x) => x.value === v);
        return o ? pick(o.label_zh, o.label_en) : String(v ?? '');
      },
    };
  }, [locale, setLocale]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
