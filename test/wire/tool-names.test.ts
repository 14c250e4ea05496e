import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ToolNames, agentToolName } from '../../src/wire/tool-names.js';

describe('wire: tool names', () => {
  it('keeps a name Chat Completions allows, and maps an unknown one back to itself', () => {
    const names = new ToolNames();
    assert.equal(names.chatName({ name: 'Bash' }), 'Bash');
    assert.deepEqual(names.renamed, {});
    assert.deepEqual(agentToolName(names.renamed, 'Invented'), { name: 'Invented' });
  });

  it('flattens a namespace as namespace__name, or directly when the namespace ends in _', () => {
    const names = new ToolNames();
    assert.equal(names.chatName({ name: 'read', namespace: 'files' }), 'files__read');
    assert.equal(names.chatName({ name: 'read', namespace: 'mcp__files__' }), 'mcp__files__read');
    assert.deepEqual(names.renamed.mcp__files__read, { name: 'read', namespace: 'mcp__files__' });
  });

  it('renames a long name or one with forbidden characters to a prefix and a hash, and a name taken by another tool too', () => {
    const names = new ToolNames();
    const long = names.chatName({ name: `mcp__${'x'.repeat(80)}` });
    assert.equal(long.length, 64);
    assert.match(long, /^mcp__x+_[0-9a-f]{8}$/);
    assert.match(names.chatName({ name: 'web.fetch' }), /^web_fetch_[0-9a-f]{8}$/);
    assert.equal(names.chatName({ name: 'a_b' }), 'a_b');
    assert.match(names.chatName({ name: 'b', namespace: 'a_' }), /^a_b_[0-9a-f]{8}$/, 'a_ + b would be a_b, which a plain tool has');
  });

  it('every chat name is valid, distinct tools get distinct names, the same tool the same name, and each maps back', () => {
    const toolArb = fc.record({ name: fc.string({ unit: 'binary', minLength: 1, maxLength: 90 }), namespace: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(toolArb, { maxLength: 12 }), (tools) => {
        const names = new ToolNames();
        const again = new ToolNames();
        const byKey = new Map<string, string>();
        for (const tool of tools) {
          const chat = names.chatName(tool);
          assert.match(chat, /^[a-zA-Z0-9_-]{1,64}$/);
          assert.equal(names.chatName(tool), chat, 'stable within a translation');
          assert.equal(again.chatName(tool), chat, 'stable across translations of the same tool list');
          const back = agentToolName(names.renamed, chat);
          assert.equal(back.name, tool.name);
          assert.equal(back.namespace, tool.namespace);
          byKey.set(`${tool.namespace ?? ''}\u0000${tool.name}`, chat);
        }
        assert.equal(new Set(byKey.values()).size, byKey.size, 'distinct tools, distinct names');
      }),
      { numRuns: 200 },
    );
  });
});
