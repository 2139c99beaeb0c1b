import { addCloseListener, newStreamId, notifyClose, type CloseListener, type CloseReason } from '../stream'
import type { LiveStream } from '../connections'

/** The part of Bun's Server that tells whether a request is still being answered. */
export interface RequestWatcher {
	requestIP(request: Request): unknown
}

/** How often live zero-copy downloads are checked for their end, in ms (the least interval). */
export const WATCH_INTERVAL_MS = 50

// One timer for every zero-copy download in the process. A check costs about
// 0.5 µs (requestIP), so the interval grows with the count to keep the
// polling under about 1% of a core: 1,000 downloads every 50 ms, 10,000 every 500 ms.
const watched = new Set<ZeroCopyTransfer>()
let timer: Timer | undefined

const nextDelay = () => Math.max(WATCH_INTERVAL_MS, watched.size * 0.05)

function tick(): void {
	timer = undefined
	for (const t of watched) t.check()
	schedule()
}

function schedule(): void {
	if (timer || watched.size === 0) return
	timer = setTimeout(tick, nextDelay())
	timer.unref()
}

function watch(transfer: ZeroCopyTransfer): void {
	watched.add(transfer)
	schedule()
}

function unwatch(transfer: ZeroCopyTransfer): void {
	watched.delete(transfer)
	if (watched.size === 0 && timer) {
		clearTimeout(timer)
		timer = undefined
	}
}

/**
 * A file body Bun sends itself with sendfile(2), as the connection registry
 * sees it. JavaScript never touches the bytes, so nothing reports progress:
 * Bun frees a request's socket data once its response is fully handed to the
 * kernel, and `server.requestIP(request)` then turns null. The transfer polls
 * for that (every WATCH_INTERVAL_MS or more, one timer for all of them) and learns of
 * a client that left from the request's signal. `bytesSent` is 0 until the
 * end, then the body's length; a client that leaves midway leaves it at 0,
 * since the kernel does not say how far it got.
 */
export class ZeroCopyTransfer implements LiveStream {
	readonly id = newStreamId()
	readonly startedAt = Date.now()
	bytesSent = 0
	readonly eventsSent = 0
	readonly lastEventId = undefined
	#reason: CloseReason | undefined
	#listeners: CloseListener[] = []
	#onAbort = () => this.close('client')

	constructor(
		readonly request: Request,
		readonly server: RequestWatcher,
		/** Bytes of the body. */
		readonly length: number
	) {
		if (request.signal.aborted) queueMicrotask(this.#onAbort)
		else request.signal.addEventListener('abort', this.#onAbort, { once: true })
		watch(this)
	}

	get closed(): boolean {
		return this.#reason !== undefined
	}

	get closeReason(): CloseReason | undefined {
		return this.#reason
	}

	/** @internal called by the shared timer */
	check(): void {
		if (this.server.requestIP(this.request) !== null) return
		this.close(this.request.signal.aborted ? 'client' : 'done')
	}

	onClose(listener: CloseListener): () => void {
		if (this.#reason !== undefined) {
			notifyClose([listener], this.#reason)
			return () => {}
		}
		return addCloseListener(this.#listeners, listener)
	}

	/**
	 * Marks the download ended. Bun offers no way to cut a sendfile body short,
	 * so closing it with 'server' only forgets it: a download that must be
	 * closable is sent with `zeroCopy: false` (or a bandwidth limit).
	 */
	close(reason: CloseReason = 'done'): void {
		if (this.#reason !== undefined) return
		this.#reason = reason
		if (reason === 'done') this.bytesSent = this.length
		unwatch(this)
		this.request.signal.removeEventListener('abort', this.#onAbort)
		notifyClose(this.#listeners.splice(0), reason)
	}
}
