import { EventEmitter } from 'node:events';

/**
 * An EventEmitter with typed events and `safeEmit`, which catches a throwing listener so that
 * one faulty subscriber cannot break the emitter or another call. Caught errors are passed to
 * `onListenerError` (set by the owner; defaults to re-emitting as `listenerError`).
 */
export class TypedEmitter<Events extends Record<string, unknown[]>> extends EventEmitter {
  onListenerError: (err: unknown, event: string) => void = () => {};

  override on<K extends keyof Events & string>(event: K, fn: (...args: Events[K]) => void): this {
    return super.on(event, fn as (...a: unknown[]) => void);
  }
  override once<K extends keyof Events & string>(event: K, fn: (...args: Events[K]) => void): this {
    return super.once(event, fn as (...a: unknown[]) => void);
  }
  override off<K extends keyof Events & string>(event: K, fn: (...args: Events[K]) => void): this {
    return super.off(event, fn as (...a: unknown[]) => void);
  }
  /** Emits to every listener; a listener that throws is reported, the others still run. */
  safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    const listeners = this.listeners(event);
    for (const l of listeners) {
      try {
        (l as (...a: unknown[]) => void)(...args);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
    return listeners.length > 0;
  }
}
