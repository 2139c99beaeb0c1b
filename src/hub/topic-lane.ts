import type { ResponseStream } from '../stream'
import type { ReplayTarget } from './replay'
import type { SubscriberHome } from './subscriber'
import type { TopicMember, TopicsSubscription } from './topics-subscription'
import type { Frame } from './transport'

/**
 * @internal One topic of a stream of many: what the hub delivers that topic's frames to.
 * While its history is replayed its live frames are held (bounded by the
 * stream's limit; past it they are let go and read from history instead), and
 * ids the replay wrote are skipped after, as a single-topic Subscriber does.
 */
export class Lane implements ReplayTarget, TopicMember {
	heldDropped = 0
	/** The id of the first live frame that came, once one has. */
	firstLive: number | undefined
	home: SubscriberHome | undefined
	#held: Frame[] | undefined
	#heldBytes = 0
	/** Live frames up to this id were written by the replay (-1: none to skip). */
	#floor = -1

	constructor(
		readonly owner: TopicsSubscription,
		readonly topic: string
	) {}

	get stream(): ResponseStream {
		return this.owner.stream
	}

	get queuedBytes(): number {
		return this.owner.queuedBytes
	}

	get dropped(): number {
		return this.owner.dropped
	}

	/** True while the stream still carries this lane's topic through this lane. */
	get current(): boolean {
		return this.owner.laneOf(this.topic) === this && !this.stream.closed
	}

	holdLive(): void {
		this.#held = []
	}

	leave(): void {
		this.#held = undefined
		const home = this.home
		this.home = undefined
		home?.leave(this as never)
	}

	keeps(frame: Frame): boolean {
		return this.owner.keeps(frame)
	}

	takeHeld(): Frame[] {
		const held = this.#held ?? []
		if (this.#held) this.#held = []
		this.#heldBytes = 0
		return held
	}

	startLive(lastId: number | undefined, skipHeld = false): void {
		if (!this.current) return
		const held = this.#held ?? []
		this.#held = undefined
		this.#heldBytes = 0
		let floor = lastId ?? -1
		if (skipHeld && held.length) floor = Math.max(floor, Number(held[held.length - 1]!.id))
		if (floor >= 0) this.owner.reached(this.topic, floor)
		const newer = held.filter((f) => Number(f.id) > floor)
		this.#floor = newer.length ? -1 : floor
		const frames = newer.filter((f) => this.keeps(f))
		if (frames.length) this.owner.send(frames)
	}

	writeFrame(frame: Frame): boolean {
		// A removed topic's replay runs out without writing.
		return this.current ? this.owner.writeNow([frame]) : true
	}

	writeNotice(data: { lastEventId: string | undefined; replayed: number }): void {
		if (this.current) this.owner.notice(this.topic, data)
	}

	deliver(frames: Frame[]): void {
		if (this.stream.closed || !this.home) return
		this.firstLive ??= Number(frames[0]!.id)
		const held = this.#held
		if (held) {
			for (const f of frames) {
				held.push(f)
				this.#heldBytes += f.bytes.byteLength
			}
			// These frames are in the history: the replay reads them there.
			if (this.#heldBytes > this.owner.limit) {
				this.#held = []
				this.#heldBytes = 0
				this.heldDropped++
			}
			return
		}
		if (this.#floor >= 0) {
			const floor = this.#floor
			if (Number(frames[frames.length - 1]!.id) <= floor) return
			this.#floor = -1
			if (Number(frames[0]!.id) <= floor) frames = frames.filter((f) => Number(f.id) > floor)
		}
		const kept = this.owner.filtered ? frames.filter((f) => this.keeps(f)) : frames
		if (kept.length) this.owner.send(kept)
	}
}
