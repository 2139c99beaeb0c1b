/** Why a stream ended. */
export type CloseReason =
	/** the producer finished, or the handler closed it */
	| 'done'
	/** the client went away (socket closed, request aborted) */
	| 'client'
	/** the producer threw */
	| 'error'
	/** the server closed it (drain, limit, admin) */
	| 'server'
	/** the client read too slowly (slow-consumer policy) */
	| 'slow'
	/** the client read nothing for longer than the stall timeout (a half-open connection) */
	| 'stalled'
	/** its `expiresAt` passed: the client should come back with fresh credentials */
	| 'expired'

/** Trouble a stream met without ending: frames dropped for a slow client, a replay with a gap. */
export type StreamTrouble = 'dropped' | 'replay-incomplete'

/**
 * Told once when a stream ends: a function, or an object with a `streamClosed`
 * method. The object form lets what a stream belongs to (a subscriber, a
 * registry entry) listen itself, without a closure per stream: thousands stay
 * open. An object may also hear of trouble the stream met (`streamTrouble`).
 */
export type CloseListener =
	| ((reason: CloseReason) => void)
	| { streamClosed(reason: CloseReason): void; streamTrouble?(trouble: StreamTrouble, count: number): void }

/** Runs every listener once; a listener's bug is rethrown out of band and does not stop the others. */
export function notifyClose(listeners: readonly CloseListener[] | undefined, reason: CloseReason): void {
	if (!listeners) return
	for (const listener of listeners) {
		try {
			if (typeof listener === 'function') listener(reason)
			else listener.streamClosed(reason)
		} catch (error) {
			queueMicrotask(() => {
				throw error
			})
		}
	}
}

/** Adds `listener` to `list` and returns its remover. */
export function addCloseListener(list: CloseListener[], listener: CloseListener): () => void {
	list.push(listener)
	return () => {
		const i = list.indexOf(listener)
		if (i !== -1) list.splice(i, 1)
	}
}
