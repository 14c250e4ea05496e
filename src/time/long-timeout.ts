/**
 * Timers for any delay. Node's setTimeout takes at most 2^31-1 ms (about 24.8 days); a longer
 * delay fires after 1 ms with a TimeoutOverflowWarning, so a `--timeout 2592000` (30 days)
 * would end a wait at once. These chain shorter timers instead.
 */

/** The longest delay one Node timer can hold. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending long timeout; clear it with clearLongTimeout. */
export interface LongTimeout {
  /** The Node timer of the current link of the chain. */
  timer: NodeJS.Timeout;
  /** Whether the timer keeps the event loop alive. */
  ref: boolean;
}

/**
 * Calls `callback` once after `delayMs` (any finite delay ≥ 0; Infinity never fires).
 * @returns a handle for clearLongTimeout.
 */
export function setLongTimeout(callback: () => void, delayMs: number, options: { ref?: boolean } = {}): LongTimeout {
  const handle: LongTimeout = { timer: undefined as unknown as NodeJS.Timeout, ref: options.ref ?? true };
  const due = Date.now() + delayMs;
  const arm = (remaining: number): void => {
    if (remaining > MAX_TIMER_MS) {
      handle.timer = setTimeout(() => arm(due - Date.now()), MAX_TIMER_MS);
    } else {
      handle.timer = setTimeout(callback, Math.max(0, remaining));
    }
    if (!handle.ref) handle.timer.unref();
  };
  arm(delayMs);
  return handle;
}

/** Cancels a long timeout; harmless on one that fired or was cleared. */
export function clearLongTimeout(handle: LongTimeout | undefined): void {
  if (handle !== undefined) clearTimeout(handle.timer);
}
