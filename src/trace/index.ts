/**
 * The trace: a session shown as a conversation, from a file (`rock model-service trace`) or
 * live (the service's page). The service mounts the live routes with these pieces.
 */
export { SessionView, type SessionInput, type SessionSnapshot, type SessionViewOptions } from './session-view.js';
export { LiveSession, type LiveSessionOptions, type LiveSnapshot, type LiveEvent } from './live-session.js';
export { sendLivePage, sendSessionSnapshot, streamSessionEvents, HEARTBEAT_MS } from './live-routes.js';
export { livePageHtml, pageCsp, HtmlPageWriter } from './page.js';
export { runTrace, type TraceOutput, type TraceRunOptions, type TraceSummary } from './run-trace.js';
export type { Turn, Message, Part, Answer, Usage, TraceEvent, PayloadShape } from './model.js';
