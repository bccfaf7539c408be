import { useSyncExternalStore } from 'react';
import { initialState, reduce, type HomeAction, type HomeState } from './reducer.js';

/** One store for the whole app: the reducer's state, with React subscribing through useSyncExternalStore. */
export class Store {
  private state: HomeState = initialState;
  private readonly listeners = new Set<() => void>();

  getState = (): HomeState => this.state;

  dispatch = (action: HomeAction): void => {
    const next = reduce(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.listeners) listener();
  };

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export const store = new Store();

export function useHome<T>(select: (state: HomeState) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}
