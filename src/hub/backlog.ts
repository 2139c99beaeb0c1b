import type { ResponseStream } from '../stream'
import { cutSlowConsumer, droppedNotice, overLimit } from './slow-client'
import type { SlowConsumerPolicy } from './subscriber'
import type { Frame } from './transport'

/** What a backlog serves: a subscriber of one topic, or a stream of many. */
export interface BacklogOwner {
	readonly stream: ResponseStream
	/** Writes frames now; false when the client is behind. */
	writeFrames(frames: Frame[]): boolean
	/** One frame was let go by drop-oldest. */
	droppedOne(): void
}

/** How a backlog's owner treats a client that falls too far behind. */
export interface SlowConsumerRule {
	limit: number
	policy: SlowConsumerPolicy
	retryMs: number
	retryJitter: number
}

/**
 * @internal Live frames a client is behind on: held here, within the slow-consumer limit, until
 * its stream drains, then written in one go (after a notice of what drop-oldest let go). Made on
 * first use: most clients never fall behind.
 */
export class Backlog {
	#frames: Frame[] = []
	#bytes = 0
	#dropped = 0
	#waiting = false

	constructor(private readonly owner: BacklogOwner) {}

	/** Bytes held here. */
	get bytes(): number {
		return this.#bytes
	}

	/** True while frames are held: new ones queue behind them. */
	get holding(): boolean {
		return this.#frames.length > 0
	}

	/** Holds `frames` behind the client; past the limit, the rule's policy applies. */
	hold(frames: Frame[], rule: SlowConsumerRule): void {
		for (const f of frames) {
			this.#frames.push(f)
			this.#bytes += f.bytes.byteLength
		}
		const stream = this.owner.stream
		if (overLimit(stream, this.#bytes, rule.limit)) {
			if (rule.policy === 'disconnect') {
				this.clear()
				return cutSlowConsumer(stream, rule.retryMs, rule.retryJitter, rule.limit)
			}
			while (this.#frames.length && overLimit(stream, this.#bytes, rule.limit)) {
				this.#bytes -= this.#frames.shift()!.bytes.byteLength
				this.#dropped++
				this.owner.droppedOne()
			}
		}
		this.waitForDrain()
	}

	/** Writes what is held once the stream drains (once, however often it is asked). */
	waitForDrain(): void {
		if (this.#waiting) return
		this.#waiting = true
		this.owner.stream.drained().then(() => {
			this.#waiting = false
			this.#flush()
		})
	}

	/** Lets go of the frames of `topic` (a stream of many topics dropped it). */
	removeTopic(topic: string): void {
		this.#frames = this.#frames.filter((f) => f.topic !== topic)
		this.#bytes = 0
		for (const f of this.#frames) this.#bytes += f.bytes.byteLength
	}

	/** Lets go of everything held (the stream ended or was cut). */
	clear(): void {
		this.#frames = []
		this.#bytes = 0
	}

	#flush(): void {
		const { stream } = this.owner
		const frames = this.#frames
		if (stream.closed || !frames.length) return
		this.clear()
		if (this.#dropped) {
			stream.write(droppedNotice(this.#dropped))
			this.#dropped = 0
		}
		if (!this.owner.writeFrames(frames)) this.waitForDrain()
	}
}
