import type { Frame } from '../transport'

/**
 * The frames of one topic this process decoded lately, by id, bounded by bytes
 * (least recently used go first): replays of the same frames, and the live
 * frames of the same ids, share one Frame instead of decoding a copy each.
 * A hit must carry the same text, so a topic whose ids started over (its keys
 * expired) never gets old bytes.
 */
export class FrameCache {
	#frames = new Map<string, { text: string; frame: Frame }>()
	#bytes = 0

	constructor(readonly maxBytes: number) {}

	/** Frames held. */
	get size(): number {
		return this.#frames.size
	}

	/** The frame of `id` whose text is `text`: the one held, else `make()`'s, held from now on. */
	frame(id: string, text: string, make: () => Frame): Frame {
		const hit = this.#frames.get(id)
		if (hit) {
			this.#frames.delete(id)
			if (hit.text === text) {
				this.#frames.set(id, hit)
				return hit.frame
			}
			this.#bytes -= hit.frame.bytes.byteLength
		}
		const frame = make()
		this.#frames.set(id, { text, frame })
		this.#bytes += frame.bytes.byteLength
		for (const [oldest, { frame: old }] of this.#frames) {
			if (this.#bytes <= this.maxBytes) break
			this.#frames.delete(oldest)
			this.#bytes -= old.bytes.byteLength
		}
		return frame
	}
}
