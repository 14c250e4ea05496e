import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// RFC 9110 section 7.6.1 plus the headers Node computes itself for the new connection.
const HOP_BY_HOP = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
]);

function isHopByHop(name: string, listedInConnection: Set<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || listedInConnection.has(name);
}

function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  return new Set(value ? value.split(',').map((t) => t.trim().toLowerCase()) : []);
}

/**
 * The headers a client's call carries upstream: end-to-end ones only (Authorization
 * included). Accept-Encoding becomes identity so the recorder can read the answer
 * it passes through byte for byte.
 * @returns a new header object.
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, bodyLength: number): OutgoingHttpHeaders {
  const listed = connectionTokens(incoming);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined && !isHopByHop(name, listed)) out[name] = value;
  }
  out['accept-encoding'] = 'identity';
  out['content-length'] = bodyLength;
  return out;
}

/**
 * The upstream answer's headers the client gets: end-to-end ones only; the framing
 * (content-length or chunked) is Node's to set for the client's connection.
 * @returns a new header object.
 */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionTokens(upstream);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && !isHopByHop(name, listed)) out[name] = value;
  }
  return out;
}
