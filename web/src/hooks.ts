import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from './auth';
import { liveFeed, type ConnectionState, type LiveEventType } from './events';

export const SessionContext = createContext<Session | null>(null);

/** True when the signed-in user may change things (the server checks again on every write). */
export function useIsAdmin(): boolean {
  return useContext(SessionContext)?.role === 'admin';
}

const REFRESH_DEBOUNCE_MS = 300;

/**
 * Loads data now, again when `deps` change, and again shortly after any live event of `types` (bursts
 * coalesce into one reload) or a `resync`. No polling: the event stream says when something changed.
 */
export function useLive<T>(
  load: () => Promise<T>,
  deps: unknown[],
  types: readonly LiveEventType[] = ['allocation', 'node', 'dispatch'],
) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    loadRef.current().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(undefined);
      },
      (e: unknown) => {
        if (mine === generation.current) setError(e instanceof Error ? e.message : String(e));
      },
    );
  }, []);

  useEffect(reload, deps);

  useEffect(() => {
    let timer: number | undefined;
    const unsubscribe = liveFeed.subscribe((event) => {
      if (event.type !== 'resync' && !types.includes(event.type)) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(reload, REFRESH_DEBOUNCE_MS);
    });
    return () => {
      unsubscribe();
      window.clearTimeout(timer);
    };
  }, [reload, types.join()]);

  return { data, error, reload };
}

/** Re-renders every `intervalMs` so that ages ("12 s ago") stay true. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function useConnectionState(): ConnectionState {
  const [state, setState] = useState<ConnectionState>(liveFeed.state);
  useEffect(() => liveFeed.onState(setState), []);
  return state;
}
