import { OptionError } from '../errors'
import { jitteredRetry } from '../sse'
import type { ResponseStream } from '../stream'
import { viewOf, type FrameView } from './frame-view'
import { LiveHold } from './live-hold'
import { Backlog, type BacklogOwner } from './backlog'
import type { ReplayTarget } from './replay'
import type { Frame } from './transport'

/** What happens to a subscriber whose unsent bytes pass its limit. */
export type SlowConsumerPolicy = 'disconnect' | 'drop-oldest'

/** How one subscriber is served. */
export interface SubscriberOptions {
	/** Frames this subscriber should skip (e.g. its own messages). Others still share the encoded bytes. */
	filter?: (frame: FrameView) => boolean
	/**
	 * Unsent live bytes allowed before the slow-consumer policy applies; also how
	 * many live bytes wait behind a replay. Replayed frames do not count.
	 * @default 1048576 (1 MiB)
	 */
	maxUnsentBytes?: number
	/** @default 'disconnect' */
	policy?: SlowConsumerPolicy
	/**
	 * Reconnection delay hint (ms) sent with the slow-consumer frame, so the client resumes from history
	 * (subscribe() also opens the stream with it). @default 1000
	 */
	retryMs?: number
	/** Spread of that hint: a random delay in retryMs .. retryMs * (1 + retryJitter). @default 0.5 */
	retryJitter?: number
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

/**
 * @internal SubscriberOptions with their defaults, checked once. Subscribers given no options of
 * their own share the hub's: an idle subscriber holds one reference instead of five fields.
 */
export class SubscriberConfig {
	readonly filter: SubscriberOptions['filter']
	readonly limit: number
	readonly policy: SlowConsumerPolicy
	readonly retryMs: number
	readonly retryJitter: number
	constructor(options: SubscriberOptions = {}) {
		this.filter = options.filter
		this.limit = options.maxUnsentBytes ?? 1024 * 1024
		this.policy = options.policy ?? 'disconnect'
		this.retryMs = options.retryMs ?? 1000
		this.retryJitter = options.retryJitter ?? 0.5
		if (!(this.limit > 0)) throw new OptionError('maxUnsentBytes must be positive')
		jitteredRetry(this.retryMs, this.retryJitter) // refuses a bad jitter now, not at the cut-off
	}
}

/** Where a subscriber belongs (the hub's topic): told when the subscriber's stream ends. */
export interface SubscriberHome {
	leave(sub: Subscriber): void
}

/**
 * One stream subscribed to one topic. Live frames are written as they come,
 * the same bytes every subscriber gets; while the client is behind they wait
 * here (bounded by the limit) and go out joined in one write when it catches up.
 * While its history is replayed (src/hub/replay.ts), live frames are held here.
 */
export class Subscriber implements ReplayTarget, BacklogOwner {
	readonly stream: ResponseStream
	readonly topic: string
	/** Frames dropped by drop-oldest, in total. */
	dropped = 0
	/** @internal Times held live frames passed the limit during a replay and were let go. */
	heldDropped = 0
	#config: SubscriberConfig
	/** Live frames held while the history is replayed, then the ids it wrote (live-hold.ts); there only then. */
	#hold: LiveHold | undefined
	/** Live frames the client is behind on; made when it first falls behind (most never do). */
	#backlog: Backlog | undefined
	#home: SubscriberHome | undefined

	constructor(stream: ResponseStream, topic: string, options: SubscriberOptions | SubscriberConfig = {}) {
		this.stream = stream
		this.topic = topic
		this.#config = options instanceof SubscriberConfig ? options : new SubscriberConfig(options)
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
		this.#hold = undefined
		this.#home?.leave(this)
	}

	/** Bytes queued for this client: in the stream and waiting here. */
	get queuedBytes(): number {
		return this.stream.unsentBytes + (this.#backlog?.bytes ?? 0)
	}

	/** Holds live frames until startLive() (while the history is replayed). */
	holdLive(): void {
		this.#hold = new LiveHold()
	}

	/** @internal */
	keeps(frame: Frame): boolean {
		const filter = this.#config.filter
		return !filter || filter(viewOf(frame))
	}

	/** @internal */
	takeHeld(): Frame[] {
		return this.#hold?.take() ?? []
	}

	/** @internal */
	startLive(lastId: number | undefined, skipHeld = false): void {
		const hold = (this.#hold ??= new LiveHold())
		const newer = hold.release(lastId, skipHeld)
		if (hold.done) this.#hold = undefined
		if (this.stream.closed) return
		const frames = this.#keep(newer)
		if (frames.length) this.#send(frames, concat(frames))
	}

	/** Delivers frames published together; `joined` is their bytes, encoded once for every subscriber. */
	deliver(frames: Frame[], joined: Uint8Array): void {
		if (this.stream.closed) return
		const hold = this.#hold
		if (hold) {
			if (hold.holding) {
				if (hold.add(frames, this.#config.limit)) this.heldDropped++
				return
			}
			const newer = hold.pass(frames)
			if (hold.done) this.#hold = undefined
			if (!newer.length) return
			if (newer !== frames) {
				frames = newer
				joined = concat(frames)
			}
		}
		if (this.#config.filter) {
			const kept = this.#keep(frames)
			if (kept.length !== frames.length) {
				if (kept.length) this.#send(kept, concat(kept))
				return
			}
		}
		this.#send(frames, joined)
	}

	#keep(frames: Frame[]): Frame[] {
		const filter = this.#config.filter
		if (!filter) return frames.slice()
		return frames.filter((f) => filter(viewOf(f)))
	}

	#send(frames: Frame[], bytes: Uint8Array): void {
		if (!this.#backlog?.holding && !this.stream.backpressured) {
			if (!this.#write(frames, bytes)) (this.#backlog ??= new Backlog(this)).waitForDrain()
			return
		}
		// The client is behind: hold the frames, within the limit, until it drains.
		;(this.#backlog ??= new Backlog(this)).hold(frames, this.#config)
	}

	#write(frames: Frame[], bytes: Uint8Array): boolean {
		this.stream.lastEventId = frames[frames.length - 1]!.id
		return this.stream.write(bytes, frames.length)
	}

	/** @internal held frames, written once the client caught up */
	writeFrames(frames: Frame[]): boolean {
		return this.#write(frames, concat(frames))
	}

	/** @internal drop-oldest let a frame go */
	droppedOne(): void {
		this.dropped++
		this.stream.report('dropped')
	}
}
