import assert from 'node:assert/strict';
import fc from 'fast-check';
import { arrayElements, objectMembers, wholeValue } from '../../src/trace/json-slices.js';
import type { TraceEvent, Turn } from '../../src/trace/model.js';
import { prettyJson } from '../../src/trace/pretty-json.js';
import { SessionView, type JsonBytes } from '../../src/trace/session-view.js';

const bytes = (text: string): JsonBytes => {
  const buf = Buffer.from(text, 'utf8');
  return { buf, slice: wholeValue(buf, 0, buf.length) ?? { start: 0, end: buf.length } };
};
const request = (index: number, payload: string, at?: number) => ({ kind: 'request' as const, index, offset: 0, payload: bytes(payload), ...(at !== undefined ? { at } : {}) });
const response = (index: number, payload: string, at?: number) => ({ kind: 'response' as const, index, offset: 0, payload: bytes(payload), ...(at !== undefined ? { at } : {}) });
const chat = (content: string): string => JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] });

function record(view: SessionView): TraceEvent[] {
  const events: TraceEvent[] = [];
  view.onEvent((e) => events.push(e));
  return events;
}

describe('trace: JSON slices', () => {
  it('finds the same members and elements as JSON.parse, whatever the spacing', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.constantFrom(undefined, 1, '\t'), (elements, space) => {
        const text = JSON.stringify({ a: 1, messages: elements, 'k"\\': 'v' }, null, space);
        const buf = Buffer.from(text, 'utf8');
        const members = objectMembers(buf, wholeValue(buf, 0, buf.length)!)!;
        assert.deepEqual([...members.keys()], ['a', 'messages', 'k"\\']);
        const found = arrayElements(buf, members.get('messages')!)!;
        assert.deepEqual(
          found.map((s) => JSON.parse(buf.toString('utf8', s.start, s.end))),
          JSON.parse(JSON.stringify(elements)),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on malformed bytes: they give null, or slices that fail to parse later', () => {
    for (const text of ['', '{', '{"a":', '[1,2', '"open', '{"a" 1}', '{} {}', '\u0000', '{"a":1,}', '{"a":"\\"}']) {
      const buf = Buffer.from(text);
      const whole = wholeValue(buf, 0, buf.length);
      if (whole !== null) assert.ok(objectMembers(buf, whole) === null || arrayElements(buf, whole) === null, text);
    }
    assert.equal(arrayElements(Buffer.from('[1 2]'), { start: 0, end: 5 }), null);
    assert.equal(objectMembers(Buffer.from('{"a" 1}'), { start: 0, end: 7 }), null);
  });
});

describe('trace: pretty JSON', () => {
  it('indents without changing a number or an escape', () => {
    assert.equal(prettyJson('{"id":12345678901234567890,"x":[1.50,1E+2,{}],"s":"a\\u005fb\\"c"}'), '{\n  "id": 12345678901234567890,\n  "x": [\n    1.50,\n    1E+2,\n    {}\n  ],\n  "s": "a\\u005fb\\"c"\n}');
    assert.equal(prettyJson('not json {'), 'not json {');
    assert.equal(prettyJson('"a string"'), '"a string"');
  });
});

describe('trace: SessionView', () => {
  it('keeps a hash per message of earlier requests, not the requests', () => {
    const view = new SessionView();
    const events = record(view);
    const big = 'x'.repeat(1_000_000);
    view.add(request(1, JSON.stringify({ messages: [{ role: 'user', content: big }] }), 1000));
    view.add(response(1, chat('ok'), 1250));
    view.add(request(2, JSON.stringify({ messages: [{ role: 'user', content: big }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'more' }] }), 2000));
    const turns = events.filter((e): e is Turn => e.type === 'turn');
    assert.equal(turns[0]!.latencyMs, 250);
    const second = events.at(-1) as { type: 'request'; turn: Turn };
    assert.deepEqual(second.turn.context, { messages: 3, kept: 1, dropped: 0, continues: 1, echoed: 1 });
    assert.deepEqual(second.turn.added, [{ role: 'user', parts: [{ type: 'text', text: 'more' }] }]);
  });

  it('reports duplicates and strays instead of throwing, and ends unanswered requests on finish()', () => {
    const view = new SessionView();
    const events = record(view);
    view.add(request(1, '{"messages":[]}'));
    view.add(request(1, '{"messages":[]}'));
    view.add(response(7, chat('?')));
    view.add(response(1, 'not json'));
    view.add(response(1, chat('late')));
    view.add(request(2, '[1,2]'));
    view.finish();
    assert.deepEqual(
      events.map((e) => (e.type === 'skipped' ? `skipped: ${e.reason}` : e.type === 'turn' ? `turn ${e.index} ${e.status}${e.error ? `: ${e.error}` : ''}` : e.type)),
      [
        'request',
        'skipped: request 1 appears twice; the first one stands',
        'skipped: response 7 answers no request in this log',
        'turn 1 failed: the response is not JSON (or not UTF-8)',
        'skipped: a second response to request 1; the first one stands',
        'request',
        'turn 2 unanswered: the request is not a JSON object',
      ],
    );
  });

  it('survives values nested past the stack and numbers of a million digits', () => {
    const view = new SessionView();
    const events = record(view);
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    view.add(request(1, `{"messages":[{"role":"user","content":${deep}},{"role":"user","content":"${'9'.repeat(10)}"}],"n":${'1'.repeat(1_000_000)}}`));
    view.add(response(1, `{"choices":[{"message":{"role":"assistant","content":${deep}}}]}`));
    const turn = events.find((e): e is Turn => e.type === 'turn')!;
    assert.equal(turn.added.length, 2);
    assert.equal(turn.added[1]!.parts[0]!.text, '9999999999');
  });

  it('keeps completed turns for the snapshot within its byte bound, oldest losing their messages first', () => {
    const view = new SessionView({ retainBytes: 50_000 });
    for (let i = 1; i <= 20; i++) {
      view.add(request(i, JSON.stringify({ messages: [{ role: 'user', content: `${i} ${'y'.repeat(10_000)}` }] })));
      view.add(response(i, chat(`answer ${i}`)));
    }
    view.add(request(21, JSON.stringify({ messages: [{ role: 'user', content: 'waiting' }] }), 5));
    const snapshot = view.snapshot();
    assert.equal(snapshot.turns.length, 21);
    assert.deepEqual(snapshot.waiting, [{ index: 21, since: 5 }]);
    const kept = snapshot.turns.filter((t) => !t.elided);
    assert.ok(kept.length >= 4 && kept.length <= 6, `${kept.length} turns kept whole`);
    assert.equal(snapshot.elided, 21 - kept.length);
    assert.deepEqual(
      kept.map((t) => t.index),
      range(21 - kept.length + 1, 21),
    );
    assert.deepEqual(snapshot.turns[0]!.added, []);
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
