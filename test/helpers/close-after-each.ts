/** What a test starts and must stop: a service, an upstream, a proxy. */
export interface Closable {
  close(): Promise<void> | void;
}

/**
 * Registers, in the calling describe block, an afterEach that closes what `started` names, in
 * its order (a proxy before its upstream); a name the test left unset is skipped. Closing twice
 * is harmless for every closable here, so a variable is not reset between tests.
 */
export function closeAfterEach(started: () => readonly (Closable | undefined)[]): void {
  afterEach(async () => {
    for (const thing of started()) await thing?.close();
  });
}
