import { request } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * One HTTP request on a fresh connection (no keep-alive pool that would hold the CLI open).
 * @returns the status and the body text.
 * @throws the connection error, or an Error after `timeoutMs`.
 */
export function httpRequest(method: string, url: string, body: string | undefined, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Returns the URL a client uses to reach a service listening on `host` (a wildcard address means this machine). */
export function serviceUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
