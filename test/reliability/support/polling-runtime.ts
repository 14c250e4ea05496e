/**
 * A runtime for scenarios where the log comes and goes: it reads the log from its last offset
 * (from the start again when the file was replaced or cut) and answers every request line it
 * has not answered, with `reply(payload)`. A real runtime would fail its turn when its log
 * vanished; this one only has to keep answering so that the service's side can be judged.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ModelClient } from '../../../src/client/model-client.js';
import { sleep } from './project.js';

const REQUEST = /^LLM_REQUEST_START(.*)LLM_REQUEST_END\{"timestamp": \d+, "index": (\d+)(?:, [^}]*)?\}$/;

export interface PollingRuntime {
  /** Responses written. */
  readonly answered: number;
  /** Appends that failed (the log was gone). */
  readonly failedAppends: number;
  stop(): Promise<void>;
}

/** Starts answering the requests of `log` every `everyMs` until stopped. */
export function startPollingRuntime(log: string, reply: (payload: string) => string, everyMs = 5): PollingRuntime {
  const client = new ModelClient({ logFile: log });
  let running = true;
  let answered = 0;
  let failedAppends = 0;
  let lastIndex = 0;
  let inode = -1;
  let offset = 0;
  let partial = '';
  const readNew = (): string[] => {
    let fd: number;
    try {
      fd = openSync(log, 'r');
    } catch {
      return [];
    }
    try {
      const st = fstatSync(fd);
      if (st.ino !== inode || st.size < offset) {
        inode = st.ino;
        offset = 0;
        partial = '';
      }
      if (st.size === offset) return [];
      const bytes = Buffer.alloc(st.size - offset);
      const n = readSync(fd, bytes, 0, bytes.length, offset);
      offset += n;
      const lines = (partial + bytes.subarray(0, n).toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      return lines;
    } finally {
      closeSync(fd);
    }
  };
  const loop = (async () => {
    while (running) {
      let wrote = false;
      for (const line of readNew()) {
        const match = REQUEST.exec(line);
        if (!match || Number(match[2]) <= lastIndex) continue;
        const index = Number(match[2]);
        try {
          await client.pushResponse(index, reply(match[1]!));
          answered++;
          wrote = true;
        } catch {
          failedAppends++;
        }
        lastIndex = index;
      }
      if (!wrote) await sleep(everyMs);
    }
  })();
  return {
    get answered() {
      return answered;
    },
    get failedAppends() {
      return failedAppends;
    },
    async stop() {
      running = false;
      await loop;
      client.close();
    },
  };
}
