import { encodeSseBytes, jitteredRetry } from '../sse'
import type { ResponseStream } from '../stream'
import { viewOf } from './frame-view'
import type { PresenceOptions, SubscribeOptions } from './hub'
import { REPLAY_INCOMPLETE, REPLAY_PAGE, replayHistory } from './replay'
import { Backlog, type BacklogOwner, type SlowConsumerRule } from './backlog'
import type { SlowConsumerPolicy, SubscriberHome } from './subscriber'
import { checkTopics, MAX_TOPICS, parseCursor, tagsOf, TopicsError } from './topic-cursor'
import { idTailLength, topicVariant, writeIdTail } from './topic-frame'
import { Lane } from './topic-lane'
import type { Frame, Transport } from './transport'

/** What the hub keeps of each subscriber of a topic: a Subscriber, or one topic of a stream of many. */
export interface TopicMember {
	readonly stream: ResponseStream
	readonly topic: string
	/** Bytes queued for its client. */
	readonly queuedBytes: number
	/** Frames dropped by drop-oldest. */
	readonly dropped: number
	deliver(frames: Frame[], joined: Uint8Array): void
}

/** How a stream of many topics subscribes: as one topic does, and how many topics it may carry. */
export interface TopicsOptions extends SubscribeOptions {
	/**
	 * Most topics on the stream, live additions included. Its resume id grows
	 * with each (about 15 bytes): past 8 it may pass the 128 bytes a browser
	 * sends without a CORS preflight. @default 8
	 */
	maxTopics?: number
	/** Called when topics are added or removed on the open stream (the connection registry recounts). */
	onTopicsChange?: (topics: string[], stream: ResponseStream) => void
}

/** Where a new topic of an open stream starts. */
export interface TopicStart {
	/** The topic's id the client last saw: the frames after it are replayed first. */
	after?: string | number
	/** Without `after`: frames of history sent first. @default 0 */
	last?: number
}

/** @internal What a stream of many topics needs of the hub. */
export interface TopicsHost {
	readonly transport: Transport
	/** Adds `member` to `topic`'s subscribers (announcing its join, given `user`); the home it leaves by. */
	join(topic: string, member: TopicMember, presence?: PresenceOptions, user?: string): SubscriberHome
	/** The stream ended. */
	ended(subscription: TopicsSubscription): void
}

/** @internal The settings the hub resolved for one subscription. */
export interface TopicsSettings extends TopicsOptions {
	maxUnsentBytes: number
	slowConsumer: SlowConsumerPolicy
	replayBytes: number
}

const utf8 = new TextEncoder()

/**
 * One stream subscribed to many topics. Each topic has a lane (its own replay,
 * held live frames and no-duplicate floor, as a single-topic Subscriber has);
 * the stream has one queue, one limit and one slow-consumer policy. Frames go
 * out as their topic's shared variant (see topic-frame.ts) plus an id naming
 * the position in every topic, computed when the bytes are written: whatever
 * the client last received names exactly what it has, in every topic.
 */
export class TopicsSubscription implements BacklogOwner {
	readonly stream: ResponseStream
	/** Frames dropped by drop-oldest, in total. */
	dropped = 0
	readonly #host: TopicsHost
	readonly #options: TopicsSettings
	readonly #lanes = new Map<string, Lane>()
	#tags = new Map<string, string>()
	/** Per topic, the last id the client has been sent (or skipped past). */
	readonly #positions = new Map<string, number>()
	/** Per topic, its cursor entry (tag and position), made when the position moves: a cursor is then a join. */
	#entries = new Map<string, string>()
	/** Live frames the client is behind on; made when it first falls behind. */
	#backlog: Backlog | undefined
	readonly #rule: SlowConsumerRule

	/** @internal use hub.subscribe(stream, [topics]) */
	constructor(host: TopicsHost, stream: ResponseStream, options: TopicsSettings) {
		this.#host = host
		this.stream = stream
		this.#options = options
		const retryMs = options.retryMs ?? 1000
		const retryJitter = options.retryJitter ?? 0.5
		jitteredRetry(retryMs, retryJitter) // refuses a bad jitter now, not at the cut-off
		this.#rule = { limit: options.maxUnsentBytes, policy: options.slowConsumer, retryMs, retryJitter }
	}

	/** The topics the stream carries now. */
	get topics(): string[] {
		return [...this.#lanes.keys()]
	}

	/** Bytes queued for this client: in the stream and waiting here. */
	get queuedBytes(): number {
		return this.stream.unsentBytes + (this.#backlog?.bytes ?? 0)
	}

	/** @internal the limit of live bytes held, per lane during its replay and for the stream. */
	get limit(): number {
		return this.#options.maxUnsentBytes
	}

	/**
	 * @internal Joins the first topics: each resumes after its position in
	 * `lastEventId` (a cursor this class wrote), or starts as a new topic does.
	 */
	start(topics: readonly string[], lastEventId: string | undefined): void {
		const unique = [...new Set(topics)]
		checkTopics(unique, this.#options.maxTopics ?? MAX_TOPICS)
		this.#retag(unique)
		const positions = parseCursor(lastEventId)
		this.stream.onClose(this)
		for (const topic of unique) {
			const at = positions?.get(this.#tags.get(topic)!)
			// An id that is not one of ours is treated as a single topic's would be: replay-incomplete.
			if (at !== undefined) this.#join(topic, { after: at })
			else if (lastEventId !== undefined && !positions) this.#join(topic, { after: lastEventId })
			else this.#join(topic, { last: this.#options.last })
		}
	}

	/**
	 * Adds `topic` to the open stream: its frames after `from.after` (or its
	 * last `from.last`) first, then live ones. False when the stream already
	 * carries it or has closed; throws a TopicsError past maxTopics.
	 */
	add(topic: string, from: TopicStart = {}): boolean {
		if (this.stream.closed || this.#lanes.has(topic)) return false
		checkTopics([...this.#lanes.keys(), topic], this.#options.maxTopics ?? MAX_TOPICS)
		this.#retag([...this.#lanes.keys(), topic])
		this.#join(topic, from)
		this.#changed()
		return true
	}

	/** Removes `topic` from the open stream: none of its frames follow. False when it does not carry it. */
	remove(topic: string): boolean {
		const lane = this.#lanes.get(topic)
		if (!lane) return false
		this.#lanes.delete(topic)
		this.#positions.delete(topic)
		this.#retag(this.#lanes.keys())
		this.#backlog?.removeTopic(topic)
		lane.leave()
		this.#changed()
		return true
	}

	/** @internal the stream ended */
	streamClosed(): void {
		this.#backlog?.clear()
		for (const lane of this.#lanes.values()) lane.leave()
		this.#host.ended(this)
	}

	/** New tags for a new set of topics; the entries follow. */
	#retag(topics: Iterable<string>): void {
		this.#tags = tagsOf(topics)
		this.#entries = new Map()
		for (const topic of this.#tags.keys()) {
			const at = this.#positions.get(topic)
			if (at !== undefined) this.#moveTo(topic, at)
		}
	}

	#moveTo(topic: string, id: number): void {
		this.#positions.set(topic, id)
		const tag = this.#tags.get(topic)
		if (tag !== undefined) this.#entries.set(topic, tag + id.toString(36))
	}

	/** The cursor now, the entry of `first` (the frame's topic) first: what cursorOf() makes, from the entries kept. */
	#cursor(first: string): string {
		const own = this.#entries.get(first)
		let id = own === undefined ? 't' : 't' + own
		for (const [topic, entry] of this.#entries) if (topic !== first) id += id.length > 1 ? '.' + entry : entry
		return id
	}

	#changed(): void {
		this.#options.onTopicsChange?.(this.topics, this.stream)
	}

	#join(topic: string, from: TopicStart): void {
		const lane = new Lane(this, topic)
		this.#lanes.set(topic, lane)
		lane.holdLive()
		lane.home = this.#host.join(topic, lane, this.#options.presence, this.#options.user)
		const transport = this.#host.transport
		const read = (afterId: string | undefined, k: number) => transport.replay(topic, afterId, k, REPLAY_PAGE)
		const budget = this.#options.replayBytes
		const replay = (after: string | undefined, last: number) => replayHistory(lane, read, after, last, budget)
		if (from.after !== undefined) {
			const after = String(from.after)
			if (/^\d+$/.test(after)) this.#moveTo(topic, Number(after))
			void replay(after, 0)
		} else if ((from.last ?? 0) > 0) void replay(undefined, from.last!)
		else
			// A new topic starts at its newest id (a reconnect then replays what was published
			// since), or before the first live frame that came while the head was read.
			void read(undefined, 1).then(
				(head) => {
					if (!lane.current) return
					const newest = Number(head.frames.at(-1)?.id ?? 0)
					const start = lane.firstLive === undefined ? newest : Math.min(newest, lane.firstLive - 1)
					return replay(String(start), 0)
				},
				() => (lane.current ? replay(undefined, 0) : undefined)
			)
	}

	/** @internal A lane's frames before `id` were all handled (sent or skipped): the client is past them. */
	reached(topic: string, id: number): void {
		if (this.#lanes.has(topic)) this.#moveTo(topic, id)
	}

	/** @internal True when a filter decides which frames go. */
	get filtered(): boolean {
		return this.#options.filter !== undefined
	}

	/** @internal */
	keeps(frame: Frame): boolean {
		const filter = this.#options.filter
		return !filter || filter(viewOf(frame))
	}

	/** @internal Writes frames now, each with the cursor after it; false when the client is behind. */
	writeFrames(frames: Frame[]): boolean {
		if (frames.length === 1) {
			// The usual case: one frame, no arrays.
			const frame = frames[0]!
			this.#moveTo(frame.topic, Number(frame.id))
			const cursor = this.#cursor(frame.topic)
			const variant = topicVariant(frame)
			const out = new Uint8Array(variant.byteLength + idTailLength(cursor))
			out.set(variant)
			writeIdTail(out, variant.byteLength, cursor)
			this.stream.lastEventId = cursor
			return this.stream.write(out, 1)
		}
		const cursors: string[] = []
		const variants: Uint8Array[] = []
		let size = 0
		for (const frame of frames) {
			this.#moveTo(frame.topic, Number(frame.id))
			const cursor = this.#cursor(frame.topic)
			const variant = topicVariant(frame)
			cursors.push(cursor)
			variants.push(variant)
			size += variant.byteLength + idTailLength(cursor)
		}
		const out = new Uint8Array(size)
		let at = 0
		for (let i = 0; i < frames.length; i++) {
			out.set(variants[i]!, at)
			at = writeIdTail(out, at + variants[i]!.byteLength, cursors[i]!)
		}
		this.stream.lastEventId = cursors.at(-1)
		return this.stream.write(out, frames.length)
	}

	/** @internal A lane's replay-incomplete notice, marked with its topic. */
	notice(topic: string, data: { lastEventId: string | undefined; replayed: number }): void {
		const head = utf8.encode(`topic: ${topic}\n`)
		const body = encodeSseBytes({ event: REPLAY_INCOMPLETE, data: { ...data, topic } })
		const out = new Uint8Array(head.byteLength + body.byteLength)
		out.set(head)
		out.set(body, head.byteLength)
		this.stream.write(out)
	}

	/** @internal Live frames of one topic: written now, or held while the client is behind. */
	send(frames: Frame[]): void {
		if (!this.#backlog?.holding && !this.stream.backpressured) {
			if (!this.writeFrames(frames)) (this.#backlog ??= new Backlog(this)).waitForDrain()
			return
		}
		;(this.#backlog ??= new Backlog(this)).hold(frames, this.#rule)
	}

	/** @internal drop-oldest let a frame go */
	droppedOne(): void {
		this.dropped++
		this.stream.report('dropped')
	}

	/** @internal */
	laneOf(topic: string): Lane | undefined {
		return this.#lanes.get(topic)
	}
}

export { TopicsError }
