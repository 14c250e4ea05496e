export {
  LogFollower,
  type LogFollowerOptions,
  type LogUnavailable,
  type AvailabilityListener,
  type RecordsListener,
  type ResetListener,
  type ResetReason,
  type FollowerErrorListener,
} from './log-follower.js';
export { ResponseRouter } from './response-router.js';
export { IndexedWaiters, type IndexedWaitersOptions, type WaitOptions } from './indexed-waiters.js';
