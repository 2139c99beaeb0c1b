// Reading request bodies that a client may never finish. Web APIs only, no
// imports: the browser client's NDJSON reader iterates chunks with it too.

/** The default time a request body may send nothing before it is answered 408. */
export const BODY_TIMEOUT_MS = 30_000

/** A request body that sent no bytes for `ms` while it was being read. */
export class BodyTimeoutError extends Error {
	constructor(readonly ms: number) {
		super(`the request body sent nothing for ${ms} ms`)
		this.name = 'BodyTimeoutError'
	}
}

/**
 * Iterates a ReadableStream's chunks, cancelling it when the iteration stops
 * early. With `idleMs`, a read that waits that long for the next chunk cancels
 * the body and throws BodyTimeoutError. Only the time spent waiting on the
 * sender counts: a consumer that takes its time between reads (a slow client
 * of the response, backpressure) never times the body out. One timer per body,
 * re-armed at most once per `idleMs`, not one per chunk.
 */
export async function* chunksOf(body: ReadableStream<Uint8Array>, idleMs = 0): AsyncGenerator<Uint8Array> {
	const reader = body.getReader()
	let done = false
	let expired = false
	let waitingSince = -1
	let timer: ReturnType<typeof setTimeout> | undefined
	const check = () => {
		timer = undefined
		if (waitingSince < 0) return
		const left = waitingSince + idleMs - performance.now()
		if (left > 0) timer = setTimeout(check, left)
		else {
			expired = true
			// Settles the pending read as done; the loop below turns that into the error.
			reader.cancel(new BodyTimeoutError(idleMs)).catch(() => {})
		}
	}
	try {
		for (;;) {
			if (idleMs > 0) {
				waitingSince = performance.now()
				timer ??= setTimeout(check, idleMs)
			}
			const r = await reader.read()
			waitingSince = -1
			if (expired) throw new BodyTimeoutError(idleMs)
			if (r.done) {
				done = true
				return
			}
			yield r.value
		}
	} finally {
		if (timer) clearTimeout(timer)
		if (!done && !expired) await reader.cancel().catch(() => {})
		reader.releaseLock()
	}
}
