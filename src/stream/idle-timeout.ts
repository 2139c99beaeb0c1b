import type { TimeoutSetter } from './response-stream'

// Bun's idle timeout is per connection and can be set but not read. A stream
// turns it off for its request; a body reader that sets it must not turn it
// back on under a stream, so a request a stream took it off for is marked. A mark
// on the request, not a WeakSet of them: thousands of streams open, and a weak
// table of every one costs more than the mark (docs/benchmarks.md).
const OFF = Symbol('sluice.idleTimeoutOff')
type Marked = Request & { [OFF]?: true }

/** Turns Bun's idle timeout off for `request`: its response is a stream that decides its own liveness. */
export function idleTimeoutOff(server: TimeoutSetter, request: Request): void {
	server.timeout(request, 0)
	;(request as Marked)[OFF] = true
}

/** Bun's longest idle timeout, in seconds. */
const MAX_SECONDS = 255
// Bun checks idle timeouts on a 4-second tick, so one may fire up to 4 s early.
const TICK_SECONDS = 4

/**
 * Moves Bun's idle timeout for `request` past a body timeout of `ms`, so that a
 * silent body is answered (408) by the reader before Bun drops the connection
 * without a word. Left alone when a stream has turned it off. A body timeout
 * too long for Bun (over about 4 minutes) turns it off instead.
 */
export function idleTimeoutAfter(server: TimeoutSetter, request: Request, ms: number): void {
	if ((request as Marked)[OFF] || ms <= 0) return
	const seconds = Math.ceil(ms / 1000) + 2 * TICK_SECONDS
	server.timeout(request, seconds > MAX_SECONDS ? 0 : seconds)
}

/**
 * A body given up on (timed out, too long, refused) leaves its unread rest on
 * the connection: Bun drops the connection after `ms` more of silence (at
 * least a second, on its 4-second tick), under a stream too. Call it before
 * the response ends: Bun ignores a timeout set after that.
 */
export function idleTimeoutForAbandoned(server: TimeoutSetter, request: Request, ms: number): void {
	server.timeout(request, Math.min(MAX_SECONDS, Math.max(1, Math.ceil(ms / 1000))))
}
