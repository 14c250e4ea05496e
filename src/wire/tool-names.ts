/**
 * Tool names the runtime can use, and the way back. Chat Completions allows
 * `^[a-zA-Z0-9_-]{1,64}$`; agents send longer MCP names, other characters, and (Codex) functions
 * grouped under a `namespace`. A name that already fits is kept; any other gets a stable name
 * (the same one every turn, so the runtime's history and its tools agree) that maps back.
 */
import { createHash } from 'node:crypto';

/** The tool as the agent's API names it. */
export interface AgentToolName {
  name: string;
  /** The Responses `namespace` the function was declared in. */
  namespace?: string;
  /** A Responses `custom` (freeform) tool: the runtime sees a function taking `{"input": string}`. */
  custom?: true;
}

const CHAT_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const HASH_LENGTH = 8;

/** Returns a valid Chat Completions name derived from `joined`, with a hash of `key` so different tools never meet. */
function hashedName(joined: string, key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, HASH_LENGTH);
  const safe = joined.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64 - HASH_LENGTH - 1);
  return `${safe}_${hash}`;
}

/** The names of one translation, both ways. */
export class ToolNames {
  private readonly byKey = new Map<string, string>();
  /** Chat name → agent name, for the names that differ or carry a namespace or kind. */
  readonly renamed: Record<string, AgentToolName> = {};
  private readonly taken = new Set<string>();

  /**
   * Returns the Chat Completions name of a tool, the same for the same tool every time;
   * a Responses namespace is joined as `namespace__name` (directly when it already ends in `_`).
   */
  chatName(tool: AgentToolName): string {
    const key = tool.namespace === undefined ? tool.name : `${tool.namespace}\u0000${tool.name}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const joined = tool.namespace === undefined ? tool.name : tool.namespace.endsWith('_') ? tool.namespace + tool.name : `${tool.namespace}__${tool.name}`;
    const name = CHAT_TOOL_NAME.test(joined) && !this.taken.has(joined) ? joined : hashedName(joined, key);
    this.byKey.set(key, name);
    this.taken.add(name);
    if (name !== tool.name || tool.namespace !== undefined || tool.custom) {
      const agent: AgentToolName = { name: tool.name };
      if (tool.namespace !== undefined) agent.namespace = tool.namespace;
      if (tool.custom) agent.custom = true;
      this.renamed[name] = agent;
    }
    return name;
  }
}

/** Returns the agent's tool for a name the runtime used (a name it invented stays as it is). */
export function agentToolName(renamed: Readonly<Record<string, AgentToolName>>, chatName: string): AgentToolName {
  return Object.prototype.hasOwnProperty.call(renamed, chatName) ? renamed[chatName]! : { name: chatName };
}
