/**
 * Routes by method and path: exact paths, plus paths that end in one `{param}` segment
 * (`/v1/models/{id}`). The query string never takes part (`/v1/messages?beta=true` is
 * `/v1/messages`). A known path asked with another method is told which methods it has.
 */

export type Method = 'GET' | 'POST';

export interface RouteMatch<H> {
  handler: H;
  /** The route's path as declared (the metrics label). */
  route: string;
  /** The `{param}` segment's value, decoded. */
  param: string | undefined;
}

export type RouteLookup<H> = { found: RouteMatch<H> } | { allowed: Method[] } | undefined;

export class Router<H> {
  readonly #exact = new Map<string, Map<Method, H>>();
  /** prefix (ending in '/') → route and handlers, for paths with one trailing `{param}`. */
  readonly #prefixed = new Map<string, { route: string; handlers: Map<Method, H> }>();

  /**
   * Adds a route. `path` is exact, or ends in `/{name}` for one parameter segment.
   * @throws TypeError when the method and path are already taken.
   */
  add(method: Method, path: string, handler: H): this {
    const param = /^(.*\/)\{[a-z_]+\}$/i.exec(path);
    let handlers: Map<Method, H>;
    if (param) {
      const prefix = param[1]!;
      let entry = this.#prefixed.get(prefix);
      if (!entry) this.#prefixed.set(prefix, (entry = { route: path, handlers: new Map() }));
      handlers = entry.handlers;
    } else {
      handlers = this.#exact.get(path) ?? new Map();
      this.#exact.set(path, handlers);
    }
    if (handlers.has(method)) throw new TypeError(`route ${method} ${path} is declared twice`);
    handlers.set(method, handler);
    return this;
  }

  /** Returns the handler for `method` and `url` (query ignored), the methods the path allows, or undefined. */
  find(method: string, url: string): RouteLookup<H> {
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const exact = this.#exact.get(path);
    if (exact) return pick(exact, method, path, undefined);
    const slash = path.lastIndexOf('/');
    const entry = this.#prefixed.get(path.slice(0, slash + 1));
    if (!entry || slash === path.length - 1) return undefined;
    let param: string;
    try {
      param = decodeURIComponent(path.slice(slash + 1));
    } catch {
      return undefined;
    }
    return pick(entry.handlers, method, entry.route, param);
  }

  /** Every route as `METHOD path`, for the 404 message. */
  describe(): string[] {
    const out: string[] = [];
    for (const [path, handlers] of this.#exact) for (const m of handlers.keys()) out.push(`${m} ${path}`);
    for (const { route, handlers } of this.#prefixed.values()) for (const m of handlers.keys()) out.push(`${m} ${route}`);
    return out;
  }
}

function pick<H>(handlers: Map<Method, H>, method: string, route: string, param: string | undefined): RouteLookup<H> {
  const handler = handlers.get(method as Method);
  return handler === undefined ? { allowed: [...handlers.keys()] } : { found: { handler, route, param } };
}
