import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { modelBody, modelsListBody } from '../../src/wire/models-list.js';

const answering = (body: string) => async () => new Response(body, { headers: { 'content-type': 'application/json' } });

describe('wire: /v1/models bodies', () => {
  const created = Date.UTC(2025, 5, 1, 12);
  const body = modelsListBody(['policy', 'claude-x', 'policy', ''], created);

  it('lists each model once, in order, with the fields of both APIs', () => {
    assert.deepEqual(JSON.parse(body), {
      object: 'list',
      data: ['policy', 'claude-x'].map((id) => ({ id, object: 'model', type: 'model', created: created / 1000, created_at: '2025-06-01T12:00:00.000Z', owned_by: 'rock-model-service', display_name: id })),
      has_more: false,
      first_id: 'policy',
      last_id: 'claude-x',
    });
    assert.deepEqual(JSON.parse(modelsListBody([])), { object: 'list', data: [], has_more: false, first_id: null, last_id: null });
  });

  it('both official clients parse the list and one model', async () => {
    const openai = new OpenAI({ apiKey: 'x', fetch: answering(body) });
    const page = await openai.models.list();
    assert.deepEqual(page.data.map((m) => [m.id, m.created, m.owned_by]), [
      ['policy', created / 1000, 'rock-model-service'],
      ['claude-x', created / 1000, 'rock-model-service'],
    ]);
    const anthropic = new Anthropic({ apiKey: 'x', fetch: answering(body) });
    const models = [];
    for await (const m of anthropic.models.list()) models.push(m.id);
    assert.deepEqual(models, ['policy', 'claude-x']);
    const one = await new Anthropic({ apiKey: 'x', fetch: answering(modelBody('policy', created)) }).models.retrieve('policy');
    assert.equal(one.display_name, 'policy');
  });
});
