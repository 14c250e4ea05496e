/**
 * Closing a connection whose request body was not read to its end (413, 408, 503, 404 before
 * the body) without losing the answer. Node closes such a socket as soon as the answer is
 * written; the client is often still sending (many clients read only once their body is out),
 * the kernel answers its next bytes with a reset, and a reset makes the client's kernel drop the
 * answer it had not read yet. A client writing a body past the size bound at full speed lost its
 * 413 twenty times out of twenty. As nginx's lingering close does: send the answer and the end of
 * our side, then read and discard what the client still sends until it closes its side, for at
 * most LINGER_MS.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** How long a closed connection still takes in a client's bytes (nginx's lingering_time is 30 s, its lingering_timeout 5 s). */
export const LINGER_MS = 2000;

/**
 * Makes the close that Node performs after the answer to `req` a lingering one: the write side
 * ends at once, unread bytes are discarded, and the socket is destroyed when the client ends
 * its side or after `lingerMs`.
 */
export function closeLingering(req: IncomingMessage, lingerMs = LINGER_MS): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  // The parser hands the rest of the body to `req`; a paused request would stop the socket's
  // reads (and so the discarding) once its buffer is full.
  req.removeAllListeners('data');
  req.resume();
  socket.destroySoon = function lingeringClose(this: Socket): void {
    if (this.destroyed) return;
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    this.once('end', () => this.destroy());
    this.end();
    this.resume();
  };
}
