import { OptionError } from '../errors'
import type { Frame, Replay, ReplayPage } from './transport'

/** Options of a topic's history ring. */
export interface HistoryOptions {
	/** Most frames kept. @default 1000 */
	maxFrames?: number
	/** Most bytes kept (sum of the frames' bytes). @default 1048576 (1 MiB) */
	maxBytes?: number
}

const decimalId = /^(0|[1-9][0-9]{0,15})$/

/** The number of a topic id, or undefined when it is not one of ours (a canonical decimal integer). */
export const idNumber = (id: string | undefined): number | undefined =>
	id !== undefined && decimalId.test(id) ? Number(id) : undefined

/**
 * The recent frames of one topic, oldest first, bounded by count and by bytes:
 * a circular buffer, so appending never copies the frames already held.
 */
export class HistoryRing {
	readonly maxFrames: number
	readonly maxBytes: number
	#frames: (Frame | undefined)[]
	#ids: number[]
	#head = 0
	#size = 0
	#bytes = 0

	constructor({ maxFrames = 1000, maxBytes = 1024 * 1024 }: HistoryOptions = {}) {
		if (!Number.isInteger(maxFrames) || maxFrames < 0) throw new OptionError('history maxFrames must be a non-negative integer')
		if (!(maxBytes >= 0)) throw new OptionError('history maxBytes must be non-negative')
		this.maxFrames = maxFrames
		this.maxBytes = maxBytes
		this.#frames = new Array(maxFrames)
		this.#ids = new Array(maxFrames)
	}

	/** Frames held. */
	get size(): number {
		return this.#size
	}

	/** Bytes held. */
	get bytes(): number {
		return this.#bytes
	}

	/** The id of the oldest frame held. */
	get oldestId(): number | undefined {
		return this.#size ? this.#ids[this.#head] : undefined
	}

	/** Appends `frame` (its id must be greater than the last one's), evicting the oldest past either bound. */
	push(frame: Frame): void {
		if (this.maxFrames === 0) return
		if (this.#size === this.maxFrames) this.#evict()
		const at = (this.#head + this.#size) % this.maxFrames
		this.#frames[at] = frame
		this.#ids[at] = Number(frame.id)
		this.#size++
		this.#bytes += frame.bytes.byteLength
		while (this.#bytes > this.maxBytes && this.#size > 0) this.#evict()
	}

	/** The last `k` frames, oldest first. */
	last(k: number): Frame[] {
		return this.#slice(this.#lastFrom(k)).frames
	}

	/** The last `k` frames, oldest first, at most one page of them. */
	lastPage(k: number, page?: ReplayPage): Replay {
		return { ...this.#slice(this.#lastFrom(k), page), complete: true }
	}

	/**
	 * The frames after `afterId`. `latestId` is the topic's last assigned id (0
	 * when none): an id past it is unknown (e.g. from before a restart), and an
	 * id before the oldest frame held means frames were evicted; both are
	 * incomplete.
	 */
	after(afterId: string, latestId: number, page?: ReplayPage): Replay {
		const n = idNumber(afterId)
		if (n === undefined || n > latestId) return { frames: [], complete: false }
		const oldest = this.oldestId ?? latestId + 1
		if (n < oldest - 1) return { ...this.#slice(0, page), complete: false }
		// Ids increase, so the first frame after n is found by binary search.
		let lo = 0
		let hi = this.#size
		while (lo < hi) {
			const mid = (lo + hi) >>> 1
			if (this.#ids[(this.#head + mid) % this.maxFrames]! <= n) lo = mid + 1
			else hi = mid
		}
		return { ...this.#slice(lo, page), complete: true }
	}

	#lastFrom(k: number): number {
		return Math.max(0, this.#size - Math.max(0, Math.floor(k)))
	}

	/** The frames from index `from` on, references to the ring's own (never copies), within `page`. */
	#slice(from: number, { maxFrames = Infinity, maxBytes = Infinity }: ReplayPage = {}): { frames: Frame[]; more?: boolean } {
		const frames: Frame[] = []
		let bytes = 0
		for (let i = from; i < this.#size; i++) {
			const frame = this.#frames[(this.#head + i) % this.maxFrames]!
			bytes += frame.bytes.byteLength
			if (frames.length > 0 && (frames.length >= maxFrames || bytes > maxBytes)) return { frames, more: true }
			frames.push(frame)
		}
		return { frames }
	}

	#evict(): void {
		const frame = this.#frames[this.#head]!
		this.#frames[this.#head] = undefined
		this.#bytes -= frame.bytes.byteLength
		this.#head = (this.#head + 1) % this.maxFrames
		this.#size--
	}
}
