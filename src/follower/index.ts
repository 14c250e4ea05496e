export { LogFollower, type LogFollowerOptions, type RecordsListener, type ResetListener, type ResetReason, type FollowerErrorListener } from './log-follower.js';
export { ResponseRouter, type WaitOptions } from './response-router.js';
