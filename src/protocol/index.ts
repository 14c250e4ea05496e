export * from './markers.js';
export { compactJson, parseJsonText, decodeUtf8, escapeMarkers, type ParsedJson } from './json-text.js';
export { encodeRequestLine, encodeResponseLine, formatMeta, SESSION_END_LINE, type RequestMeta } from './lines.js';
