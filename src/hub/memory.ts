import { HistoryRing, idNumber, type HistoryOptions } from './history'
import type { Frame, Replay, ReplayPage, Transport } from './transport'

/** Options of the memory transport. */
export interface MemoryTransportOptions {
	/** Bounds of each topic's history ring. @default { maxFrames: 1000, maxBytes: 1 MiB } */
	history?: HistoryOptions
}

interface Topic {
	lastId: number
	history: HistoryRing
	listeners: Set<(frame: Frame) => void>
}

const utf8 = new TextEncoder()

/**
 * Frames, history and counts in this process: the default transport. Publish
 * delivers synchronously, so listeners see frames in id order.
 */
export class MemoryTransport implements Transport {
	#topics = new Map<string, Topic>()
	#counts: Record<string, number> = {}
	#history: HistoryOptions

	constructor(options: MemoryTransportOptions = {}) {
		this.#history = options.history ?? {}
		new HistoryRing(this.#history) // validates the bounds now, not at the first publish
	}

	async publish(topic: string, body: Uint8Array): Promise<Frame> {
		const t = this.#topic(topic)
		const id = String(++t.lastId)
		const head = utf8.encode(`id: ${id}\n`)
		const bytes = new Uint8Array(head.byteLength + body.byteLength)
		bytes.set(head)
		bytes.set(body, head.byteLength)
		const frame: Frame = { topic, id, bytes }
		t.history.push(frame)
		for (const listener of t.listeners) {
			try {
				listener(frame)
			} catch (error) {
				// One listener's bug must not keep the frame from the others.
				queueMicrotask(() => {
					throw error
				})
			}
		}
		return frame
	}

	listen(topic: string, onFrame: (frame: Frame) => void): () => void {
		const t = this.#topic(topic)
		t.listeners.add(onFrame)
		return () => {
			t.listeners.delete(onFrame)
			// A topic nothing was published on has no history or ids to keep once no one listens:
			// per-user topics would otherwise leave one record per user ever subscribed.
			if (t.listeners.size === 0 && t.lastId === 0 && this.#topics.get(topic) === t) this.#topics.delete(topic)
		}
	}

	async replay(topic: string, afterId: string | undefined, last = 0, page?: ReplayPage): Promise<Replay> {
		const t = this.#topics.get(topic)
		if (afterId !== undefined) {
			if (!t) return { frames: [], complete: idNumber(afterId) === 0 }
			return t.history.after(afterId, t.lastId, page)
		}
		return t ? t.history.lastPage(last, page) : { frames: [], complete: true }
	}

	setCounts(counts: Record<string, number>): void {
		// Kept, not copied: it is read (and copied) when asked for (see Transport.setCounts).
		this.#counts = counts
	}

	async clusterCounts(): Promise<Record<string, number>> {
		return { ...this.#counts }
	}

	async close(): Promise<void> {
		for (const t of this.#topics.values()) t.listeners.clear()
	}

	#topic(name: string): Topic {
		let t = this.#topics.get(name)
		if (!t) {
			t = { lastId: 0, history: new HistoryRing(this.#history), listeners: new Set() }
			this.#topics.set(name, t)
		}
		return t
	}
}

/** The memory transport (one process, no services): the default. */
export const memory = (options: MemoryTransportOptions = {}): Transport => new MemoryTransport(options)
