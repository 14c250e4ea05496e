/**
 * `GET /v1/models` and `GET /v1/models/{id}` bodies that both official clients parse (docs/http.md):
 * the OpenAI client reads `{"object":"list","data":[{id, object, created, owned_by}]}`,
 * the Anthropic client pages `{data:[{id, type, created_at, display_name}], has_more, first_id,
 * last_id}`. One object carries both sets of fields.
 */

const OWNER = 'rock-model-service';

/** Returns one model entry as a plain object, `createdMs` its creation time (epoch ms). */
function modelEntry(id: string, createdMs: number): Record<string, unknown> {
  return {
    id,
    object: 'model',
    type: 'model',
    created: Math.floor(createdMs / 1000),
    created_at: new Date(createdMs).toISOString(),
    owned_by: OWNER,
    display_name: id,
  };
}

/** Returns the JSON text of the model list for `ids` (duplicates and empty ids left out, order kept). */
export function modelsListBody(ids: Iterable<string>, createdMs = Date.now()): string {
  const unique = [...new Set([...ids].filter((id) => id !== ''))];
  return JSON.stringify({
    object: 'list',
    data: unique.map((id) => modelEntry(id, createdMs)),
    has_more: false,
    first_id: unique[0] ?? null,
    last_id: unique.at(-1) ?? null,
  });
}

/** Returns the JSON text of one model, as `GET /v1/models/{id}` answers it. */
export function modelBody(id: string, createdMs = Date.now()): string {
  return JSON.stringify(modelEntry(id, createdMs));
}
