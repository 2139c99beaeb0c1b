import type { Frame } from './transport'

/**
 * @internal The live frames of one subscriber (or one topic of a stream of many)
 * while its history is replayed, then the ids the replay already wrote, skipped.
 * Made by holdLive() and dropped once the first live frame past the replay
 * went out: an idle subscriber pays no field for it beyond one reference.
 */
export class LiveHold {
	/** Held frames; undefined once live (the floor may remain). */
	#frames: Frame[] | undefined = []
	#bytes = 0
	/** Live frames up to this id were written by the replay (-1: none to skip). */
	#floor = -1
	/** After release(): the last id the replay wrote or skipped (-1: none). */
	reached = -1

	get holding(): boolean {
		return this.#frames !== undefined
	}

	/** True once nothing is held and nothing is left to skip: the owner can let the hold go. */
	get done(): boolean {
		return this.#frames === undefined && this.#floor < 0
	}

	/**
	 * Holds live frames. True when the held bytes passed `limit` and all were let go:
	 * not a reason to cut the client, these frames are in the history and the replay reads them there.
	 */
	add(frames: Frame[], limit: number): boolean {
		const held = this.#frames!
		for (const f of frames) {
			held.push(f)
			this.#bytes += f.bytes.byteLength
		}
		if (this.#bytes <= limit) return false
		this.#frames = []
		this.#bytes = 0
		return true
	}

	/** The frames held so far; holding goes on. */
	take(): Frame[] {
		const held = this.#frames ?? []
		if (this.#frames) this.#frames = []
		this.#bytes = 0
		return held
	}

	/** Stops holding: the held frames the replay did not write (past `lastId`, or past every held one with `skipHeld`). */
	release(lastId: number | undefined, skipHeld: boolean): Frame[] {
		const held = this.#frames ?? []
		this.#frames = undefined
		this.#bytes = 0
		let floor = lastId ?? -1
		if (skipHeld && held.length) floor = Math.max(floor, Number(held[held.length - 1]!.id))
		this.reached = floor
		const newer = held.filter((f) => Number(f.id) > floor)
		// Frames come in id order: once one past the floor went out, none to come is below it.
		this.#floor = newer.length ? -1 : floor
		return newer
	}

	/** Live frames after release(): those the replay did not write (the same array when it wrote none of them). */
	pass(frames: Frame[]): Frame[] {
		const floor = this.#floor
		if (floor < 0) return frames
		if (Number(frames[frames.length - 1]!.id) <= floor) return []
		this.#floor = -1
		return Number(frames[0]!.id) <= floor ? frames.filter((f) => Number(f.id) > floor) : frames
	}
}
