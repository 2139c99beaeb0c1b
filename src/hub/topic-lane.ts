import type { ResponseStream } from '../stream'
import { LiveHold } from './live-hold'
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
	#hold: LiveHold | undefined

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
		this.#hold = new LiveHold()
	}

	leave(): void {
		this.#hold = undefined
		const home = this.home
		this.home = undefined
		home?.leave(this as never)
	}

	keeps(frame: Frame): boolean {
		return this.owner.keeps(frame)
	}

	takeHeld(): Frame[] {
		return this.#hold?.take() ?? []
	}

	startLive(lastId: number | undefined, skipHeld = false): void {
		if (!this.current) return
		const hold = (this.#hold ??= new LiveHold())
		const newer = hold.release(lastId, skipHeld)
		if (hold.done) this.#hold = undefined
		if (hold.reached >= 0) this.owner.reached(this.topic, hold.reached)
		const frames = newer.filter((f) => this.keeps(f))
		if (frames.length) this.owner.send(frames)
	}

	writeFrame(frame: Frame): boolean {
		// A removed topic's replay runs out without writing.
		return this.current ? this.owner.writeFrames([frame]) : true
	}

	writeNotice(data: { lastEventId: string | undefined; replayed: number }): void {
		if (this.current) this.owner.notice(this.topic, data)
	}

	deliver(frames: Frame[]): void {
		if (this.stream.closed || !this.home) return
		this.firstLive ??= Number(frames[0]!.id)
		const hold = this.#hold
		if (hold) {
			if (hold.holding) {
				if (hold.add(frames, this.owner.limit)) this.heldDropped++
				return
			}
			frames = hold.pass(frames)
			if (hold.done) this.#hold = undefined
			if (!frames.length) return
		}
		const kept = this.owner.filtered ? frames.filter((f) => this.keeps(f)) : frames
		if (kept.length) this.owner.send(kept)
	}
}
