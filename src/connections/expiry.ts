import { encodeSse } from '../sse/encode'
import { encodeNdjson } from '../ndjson/encode'
import { jitteredRetry } from '../sse/retry'
import type { LiveStream, StreamKind } from './types'

/** An item of the expiry queue: when it is due, and where it sits in the heap (-1: not queued). */
export interface Expiring {
	readonly expiresAt: number
	expiryIndex: number
}

// setTimeout's longest delay; a later expiry is re-armed when this one fires.
const MAX_DELAY = 2 ** 31 - 1

/**
 * Every stream's expiry in one min-heap under one timer, armed for the
 * earliest: thousands of streams with an `expiresAt` cost one timer, and a
 * stream that closes first leaves the heap at once (it holds its index).
 */
export class ExpiryQueue<T extends Expiring> {
	#heap: T[] = []
	/** Called with each item when it is due (after it left the queue). */
	readonly #expire: (item: T) => void
	#timer: Timer | undefined
	#armedFor = Infinity

	constructor(expire: (item: T) => void) {
		this.#expire = expire
	}

	get size(): number {
		return this.#heap.length
	}

	add(item: T): void {
		item.expiryIndex = this.#heap.push(item) - 1
		this.#up(item.expiryIndex)
		this.#arm()
	}

	remove(item: T): void {
		const i = item.expiryIndex
		if (i < 0 || this.#heap[i] !== item) return
		item.expiryIndex = -1
		const last = this.#heap.pop()!
		if (i < this.#heap.length) {
			this.#place(last, i)
			this.#down(i)
			this.#up(i)
		}
		// The timer stays armed: clearing it when the heap empties and arming it again for the next
		// stream cost more than the rest of a stream's registration. Firing early finds nothing due.
	}

	readonly #fire = () => {
		this.#timer = undefined
		this.#armedFor = Infinity
		const now = Date.now()
		const heap = this.#heap
		while (heap.length && heap[0]!.expiresAt <= now) {
			const item = heap[0]!
			this.remove(item)
			try {
				this.#expire(item)
			} catch (error) {
				queueMicrotask(() => {
					throw error
				})
			}
		}
		this.#arm()
	}

	#arm(): void {
		const first = this.#heap[0]
		// Armed for the same time or earlier: that firing re-arms for what is first then.
		if (!first || first.expiresAt >= this.#armedFor) return
		if (this.#timer) clearTimeout(this.#timer)
		this.#armedFor = first.expiresAt
		this.#timer = setTimeout(this.#fire, Math.min(MAX_DELAY, Math.max(0, first.expiresAt - Date.now())))
		this.#timer.unref?.()
	}

	#place(item: T, i: number): void {
		this.#heap[i] = item
		item.expiryIndex = i
	}

	#up(i: number): void {
		const heap = this.#heap
		const item = heap[i]!
		while (i > 0) {
			const parent = (i - 1) >> 1
			if (heap[parent]!.expiresAt <= item.expiresAt) break
			this.#place(heap[parent]!, i)
			i = parent
		}
		this.#place(item, i)
	}

	#down(i: number): void {
		const heap = this.#heap
		const item = heap[i]!
		for (;;) {
			let child = 2 * i + 1
			if (child >= heap.length) break
			if (child + 1 < heap.length && heap[child + 1]!.expiresAt < heap[child]!.expiresAt) child++
			if (heap[child]!.expiresAt >= item.expiresAt) break
			this.#place(heap[child]!, i)
			i = child
		}
		this.#place(item, i)
	}
}

/** The `retry:` hint of an expired SSE stream. */
export interface ExpiryOptions {
	/** Reconnection delay sent to an expired SSE client, in ms. @default 1000 */
	retryMs?: number
	/** Spread of that delay, a fraction of retryMs (see jitteredRetry). @default 0.5 */
	retryJitter?: number
}

/** The SSE event an expired stream ends with. */
export const EXPIRED_EVENT = 'sluice:expired'

/**
 * Ends `stream` because its credentials expired: SSE gets `event: sluice:expired`
 * with a `retry:` hint (and no id: the client resumes from the last real one),
 * NDJSON an error line `{"error":"expired","records":N}` (what the client
 * reader throws as an error), other kinds end without a last byte, which
 * would corrupt their body.
 */
export function expireStream(stream: LiveStream, kind: StreamKind, { retryMs = 1000, retryJitter = 0.5 }: ExpiryOptions = {}): void {
	if (stream.closed) return
	if (stream.write && kind === 'sse')
		stream.write(encodeSse({ event: EXPIRED_EVENT, retry: jitteredRetry(retryMs, retryJitter), data: { reason: 'expired' } }), 1)
	else if (stream.write && kind === 'ndjson') stream.write(encodeNdjson({ error: 'expired', records: stream.eventsSent }))
	stream.close('expired')
}
