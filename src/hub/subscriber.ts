import { OptionError } from '../errors'
import { encodeSseBytes } from '../sse'
import type { ResponseStream } from '../stream'
import { viewOf, type FrameView } from './frame-view'
import { idNumber } from './history'
import type { Frame, Replay } from './transport'

/** What happens to a subscriber whose unsent bytes pass its limit. */
export type SlowConsumerPolicy = 'disconnect' | 'drop-oldest'

/** Event names the hub itself sends to a subscriber. */
export const HubEvents = {
	/** Sent when the Last-Event-ID is unknown or older than the history: frames were missed. */
	replayIncomplete: 'sluice:replay-incomplete',
	/** The last frame before a slow consumer is disconnected. */
	slowConsumer: 'sluice:slow-consumer',
	/** Sent before the next frames when drop-oldest dropped some. */
	dropped: 'sluice:dropped'
} as const

/** How one subscriber is served. */
export interface SubscriberOptions {
	/** Frames this subscriber should skip (e.g. its own messages). Others still share the encoded bytes. */
	filter?: (frame: FrameView) => boolean
	/** Unsent bytes allowed before the slow-consumer policy applies. @default 1048576 (1 MiB) */
	maxUnsentBytes?: number
	/** @default 'disconnect' */
	policy?: SlowConsumerPolicy
	/**
	 * Reconnection delay hint (ms) sent with the slow-consumer frame, so the client resumes from history
	 * (subscribe() also opens the stream with it). @default 1000
	 */
	retryMs?: number
}

const concat = (frames: Frame[]): Uint8Array => {
	if (frames.length === 1) return frames[0]!.bytes
	let size = 0
	for (const f of frames) size += f.bytes.byteLength
	const out = new Uint8Array(size)
	let at = 0
	for (const f of frames) {
		out.set(f.bytes, at)
		at += f.bytes.byteLength
	}
	return out
}

/** Where a subscriber belongs (the hub's topic): told when the subscriber's stream ends. */
export interface SubscriberHome {
	leave(sub: Subscriber): void
}

/**
 * One stream subscribed to one topic. Live frames are written as they come,
 * the same bytes every subscriber gets; while the client is behind they wait
 * here (bounded by the limit) and go out joined in one write when it catches up.
 */
export class Subscriber {
	readonly stream: ResponseStream
	readonly topic: string
	/** Frames dropped by drop-oldest, in total. */
	dropped = 0
	#filter: SubscriberOptions['filter']
	#limit: number
	#policy: SlowConsumerPolicy
	#retryMs: number
	/** Frames that arrived before the replay was written. */
	#backlog: Frame[] | undefined
	#backlogBytes = 0
	/** Frames waiting for the client to catch up; made on first use (most clients never fall behind). */
	#pending: Frame[] | undefined
	#pendingBytes = 0
	#home: SubscriberHome | undefined
	#droppedUnsent = 0
	#waiting = false

	constructor(stream: ResponseStream, topic: string, options: SubscriberOptions = {}) {
		this.stream = stream
		this.topic = topic
		this.#filter = options.filter
		this.#limit = options.maxUnsentBytes ?? 1024 * 1024
		this.#policy = options.policy ?? 'disconnect'
		this.#retryMs = options.retryMs ?? 1000
		if (!(this.#limit > 0)) throw new OptionError('maxUnsentBytes must be positive')
	}

	/**
	 * @internal Joins `home`: it is told when the stream ends. The subscriber
	 * listens itself, so an idle subscription holds no closure of its own.
	 */
	joinHome(home: SubscriberHome): void {
		this.#home = home
		this.stream.onClose(this)
	}

	/** @internal the stream ended */
	streamClosed(): void {
		this.#home?.leave(this)
	}

	/** Bytes queued for this client: in the stream and waiting here. */
	get queuedBytes(): number {
		return this.stream.unsentBytes + this.#pendingBytes
	}

	/** Holds live frames until startLive() (while the history is read). */
	holdLive(): void {
		this.#backlog = []
	}

	/**
	 * Writes the replay (and a replay-incomplete event when `lastEventId` could
	 * not be resumed), then the live frames held meanwhile that the replay did
	 * not already hold: no gap, no duplicate.
	 */
	startLive(replay: Replay, lastEventId: string | undefined): void {
		const held = this.#backlog ?? []
		this.#backlog = undefined
		this.#backlogBytes = 0
		if (this.stream.closed) return
		if (lastEventId !== undefined && !replay.complete) this.stream.report('replay-incomplete')
		if (lastEventId !== undefined && !replay.complete)
			this.stream.write(
				encodeSseBytes({
					event: HubEvents.replayIncomplete,
					data: { lastEventId, replayed: replay.frames.length }
				})
			)
		let upTo = replay.complete ? (idNumber(lastEventId) ?? -1) : -1
		const frames = this.#keep(replay.frames)
		for (const f of replay.frames) upTo = Math.max(upTo, Number(f.id))
		for (const f of this.#keep(held)) if (Number(f.id) > upTo) frames.push(f)
		if (frames.length) this.#send(frames, concat(frames))
	}

	/** Delivers frames published together; `joined` is their bytes, encoded once for every subscriber. */
	deliver(frames: Frame[], joined: Uint8Array): void {
		if (this.stream.closed) return
		if (this.#backlog) {
			for (const f of frames) {
				this.#backlog.push(f)
				this.#backlogBytes += f.bytes.byteLength
			}
			if (this.#over()) this.#disconnect()
			return
		}
		if (this.#filter) {
			const kept = this.#keep(frames)
			if (kept.length !== frames.length) {
				if (kept.length) this.#send(kept, concat(kept))
				return
			}
		}
		this.#send(frames, joined)
	}

	#keep(frames: Frame[]): Frame[] {
		const filter = this.#filter
		if (!filter) return frames.slice()
		return frames.filter((f) => filter(viewOf(f)))
	}

	#send(frames: Frame[], bytes: Uint8Array): void {
		const stream = this.stream
		if (!this.#pending?.length && !stream.backpressured) {
			stream.lastEventId = frames[frames.length - 1]!.id
			if (!stream.write(bytes, frames.length)) this.#waitForDrain()
			return
		}
		// The client is behind: hold the frames here, within the limit.
		const pending = (this.#pending ??= [])
		for (const f of frames) {
			pending.push(f)
			this.#pendingBytes += f.bytes.byteLength
		}
		if (this.#over()) {
			if (this.#policy === 'disconnect') return this.#disconnect()
			while (pending.length && this.#over()) {
				this.#pendingBytes -= pending.shift()!.bytes.byteLength
				this.#droppedUnsent++
				this.dropped++
				stream.report('dropped')
			}
		}
		this.#waitForDrain()
	}

	#over(): boolean {
		return this.stream.unsentBytes + this.#pendingBytes + this.#backlogBytes > this.#limit
	}

	#waitForDrain(): void {
		if (this.#waiting) return
		this.#waiting = true
		this.stream.drained().then(() => {
			this.#waiting = false
			this.#flush()
		})
	}

	#flush(): void {
		const stream = this.stream
		const frames = this.#pending
		if (stream.closed || !frames?.length) return
		this.#pending = undefined
		this.#pendingBytes = 0
		if (this.#droppedUnsent) {
			stream.write(encodeSseBytes({ event: HubEvents.dropped, data: { count: this.#droppedUnsent } }))
			this.#droppedUnsent = 0
		}
		stream.lastEventId = frames[frames.length - 1]!.id
		if (!stream.write(concat(frames), frames.length)) this.#waitForDrain()
	}

	#disconnect(): void {
		const stream = this.stream
		this.#pending = undefined
		this.#pendingBytes = 0
		this.#backlog = undefined
		this.#backlogBytes = 0
		stream.write(
			encodeSseBytes({
				event: HubEvents.slowConsumer,
				retry: this.#retryMs,
				data: { reason: 'slow consumer', limitBytes: this.#limit } // wire data: its name stays
			})
		)
		stream.close('slow')
	}
}
