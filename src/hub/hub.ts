import { OptionError, SluiceError } from '../errors'
import { encodeSseBytes, jitteredRetry, lastEventIdOf } from '../sse'
import type { ResponseStream } from '../stream'
import { memory } from './memory'
import { REPLAY_PAGE, replayHistory } from './replay'
import { Subscriber, SubscriberConfig, type SlowConsumerPolicy, type SubscriberHome, type SubscriberOptions } from './subscriber'
import type { Frame, Transport } from './transport'
import { TopicsSubscription, type TopicMember, type TopicsOptions, type TopicStart } from './topics-subscription'
import { SharedCounts } from './shared-counts'

/**
 * What broadcast needs of a typed event registry: `check` throws (or returns
 * false) when `data` does not fit the schema of `event`. A registry that also
 * has `wire` (an EventRegistry from `events()`) decides how data travels:
 * publish sends the text `wire` returns, so a client holding the same registry
 * decodes exactly what was published.
 */
export interface EventChecker {
	check(event: string, data: unknown): unknown
	/** Checks `data` and returns its `data:` text (undefined: no data). Used instead of `check` when present. */
	wire?(event: string, data: unknown): string | undefined
}

/** Thrown by publish when the registry refuses the data; nothing is sent. */
export class BroadcastDataError extends SluiceError {
	constructor(
		readonly event: string,
		override readonly cause: unknown
	) {
		const why = cause instanceof Error ? `: ${cause.message}` : ''
		super('BROADCAST_DATA_INVALID', `broadcast: data of event "${event}" does not match its schema${why}`)
		this.name = 'BroadcastDataError'
	}
}

/** Event name -> data type, as publish() takes them: an `events()` registry's, else any. */
export type PublishEvents = Record<string, unknown>

/** Options of a Hub. */
export interface HubOptions<Events extends PublishEvents = PublishEvents> {
	/** Where frames, history and counts go. @default memory() */
	transport?: Transport
	/** The typed event registry (`events({...})`) publish checks data against and encodes it by. */
	registry?: EventChecker & { readonly Events?: Events }
	/**
	 * Unsent live bytes allowed per subscriber (replayed history does not count).
	 * @default 1048576 (1 MiB)
	 */
	maxUnsentBytes?: number
	/** What happens to a subscriber past its limit. @default 'disconnect' */
	slowConsumer?: SlowConsumerPolicy
	/**
	 * Most bytes of history one subscription is replayed (sent as the client
	 * reads, a page at a time); past it the client gets `sluice:replay-incomplete`
	 * and live frames. Keep it above the transport's history bytes, so that a
	 * full history always reaches a client that reads.
	 * @default 4194304 (4 MiB)
	 */
	replayBytes?: number
	/** Spread of the `retry:` hint sent to a cut-off slow consumer, as a fraction of retryMs. @default 0.5 */
	retryJitter?: number
}

/**
 * Presence events a subscriber announces: data for its join and leave, given
 * the topic's live count and the subscriber's `user` (if it has one).
 */
export interface PresenceOptions {
	join?: (count: number, user: string | undefined) => unknown
	leave?: (count: number, user: string | undefined) => unknown
}

/** How a stream subscribes. */
export interface SubscribeOptions extends Omit<SubscriberOptions, 'policy'> {
	/** The id the client last saw; defaults to the request's Last-Event-ID. */
	lastEventId?: string
	/** Frames of history sent on join when there is no Last-Event-ID. @default 0 */
	last?: number
	/** @default the hub's slowConsumer */
	slowConsumer?: SlowConsumerPolicy
	/** @default the hub's replayBytes */
	replayBytes?: number
	/** Publishes `join` and `leave` events on the topic for this subscriber. */
	presence?: PresenceOptions
	/** The user the subscriber belongs to: given to its presence events (subscribe() also registers it). */
	user?: string
}

/** A topic's subscribers in this process; each leaves it when its stream ends. */
class Topic implements SubscriberHome {
	readonly subscribers = new Set<TopicMember>()
	/** The leave event each subscriber that asked for one announces. */
	readonly leaveEvents = new Map<TopicMember, (count: number, user?: string) => unknown>()
	unlisten: () => void = () => {}
	batch: Frame[] = []
	/** The key its count is shared under. */
	readonly countKey: string
	constructor(
		readonly name: string,
		private readonly left: (topic: Topic, sub: TopicMember) => void
	) {
		this.countKey = `topic:${name}`
	}
	leave(sub: TopicMember): void {
		this.left(this, sub)
	}
}

/**
 * Topics and their subscribers in this process. Publish encodes a frame once
 * and hands it to the transport; frames coming back from the transport (from
 * this process or another) are written to every local subscriber, the frames
 * of one tick joined into one write, without waiting for any client.
 */
export class Hub<Events extends PublishEvents = PublishEvents> {
	readonly transport: Transport
	#registry: EventChecker | undefined
	#limit: number
	#policy: SlowConsumerPolicy
	#replayBytes: number
	#retryJitter: number | undefined
	#topics = new Map<string, Topic>()
	/** @internal This process's counts as the transport shares them: the connection manager adds its own. */
	readonly sharedCounts: SharedCounts
	#shared: SubscriberConfig | undefined
	#closed = false

	constructor(options: HubOptions<Events> = {}) {
		this.transport = options.transport ?? memory()
		this.sharedCounts = new SharedCounts(this.transport)
		this.#host.transport = this.transport
		this.#registry = options.registry
		this.#limit = options.maxUnsentBytes ?? 1024 * 1024
		this.#policy = options.slowConsumer ?? 'disconnect'
		this.#replayBytes = options.replayBytes ?? 4 * 1024 * 1024
		this.#retryJitter = options.retryJitter
		if (!(this.#replayBytes >= 0)) throw new OptionError('replayBytes must be a non-negative number')
		if (this.#retryJitter !== undefined) jitteredRetry(1, this.#retryJitter) // refuses a bad one now
	}

	/**
	 * Publishes `data` as event `event` on `topic`: checked against the registry,
	 * encoded once, given the topic's next id. Resolves with the frame; rejects
	 * (nothing sent) when the data does not fit or the transport cannot publish.
	 * With an `events()` registry, a wrong event name or data is also a compile error.
	 */
	publish<K extends keyof Events & string>(topic: string, event: K, data: Events[K]): Promise<Frame> {
		try {
			const wire = this.#wire(event, data)
			// `message` is the type a nameless event has: leave the line out, a frame is written many times.
			return this.transport.publish(topic, encodeSseBytes({ event: event === 'message' ? undefined : event, data: wire }))
		} catch (error) {
			return Promise.reject(error)
		}
	}

	/** Live subscribers of `topic` in this process. */
	count(topic: string): number {
		return this.#topics.get(topic)?.subscribers.size ?? 0
	}

	/** The live subscribers of `topic` in this process (their queued bytes, dropped frames, streams). */
	subscribersOf(topic: string): TopicMember[] {
		return [...(this.#topics.get(topic)?.subscribers ?? [])]
	}

	/** Live subscribers per topic in this process. */
	counts(): Record<string, number> {
		const out: Record<string, number> = {}
		for (const [name, t] of this.#topics) out[name] = t.subscribers.size
		return out
	}

	/** Live subscribers per topic, summed over every process of the transport. */
	async clusterCounts(): Promise<Record<string, number>> {
		const out: Record<string, number> = {}
		for (const [key, n] of Object.entries(await this.transport.clusterCounts()))
			if (key.startsWith('topic:')) out[key.slice(6)] = n
		return out
	}

	/**
	 * Subscribes an open stream to `topic`: history first (after the request's
	 * Last-Event-ID, or the last K frames), then live frames, until the stream
	 * ends. Returns the subscriber. Given an array, one stream carries every
	 * topic in it, each frame marked with its topic (docs/topics.md).
	 */
	subscribe(stream: ResponseStream, topic: string, options?: SubscribeOptions, request?: Request): Subscriber
	subscribe(stream: ResponseStream, topics: readonly string[], options?: TopicsOptions, request?: Request): TopicsSubscription
	subscribe(
		stream: ResponseStream,
		topic: string | readonly string[],
		options: TopicsOptions = {},
		request?: Request
	): Subscriber | TopicsSubscription {
		if (this.#closed) throw new SluiceError('HUB_CLOSED', 'broadcast: the hub is closed')
		if (typeof topic !== 'string') return this.#subscribeMany(stream, topic, options, request)
		const sub = new Subscriber(stream, topic, this.#configOf(options))
		if (stream.closed) return sub
		const lastEventId = options.lastEventId ?? (request && lastEventIdOf(request))
		const last = options.last ?? 0
		const t = this.#topic(topic)
		const replaying = lastEventId !== undefined || last > 0
		// Listening before the history is read: what is published meanwhile is held, not lost.
		if (replaying) sub.holdLive()
		t.subscribers.add(sub)
		const presence = options.presence
		const user = options.user
		const leave = presence?.leave
		const join = presence?.join
		if (leave) t.leaveEvents.set(sub, user === undefined ? leave : (count) => leave(count, user))
		this.sharedCounts.set(t.countKey, t.subscribers.size)
		sub.joinHome(t)
		if (replaying)
			void replayHistory(
				sub,
				(afterId, k) => this.transport.replay(topic, afterId, k, REPLAY_PAGE),
				lastEventId,
				last,
				options.replayBytes ?? this.#replayBytes
			)
		if (join) this.#announce(topic, 'join', (count) => join(count, user), t.subscribers.size)
		return sub
	}

	/** How a subscriber is served: the hub's shared config when the subscription sets none of its own. */
	#configOf(options: SubscribeOptions): SubscriberConfig {
		const { filter, maxUnsentBytes, slowConsumer, retryMs, retryJitter } = options
		if (filter === undefined && maxUnsentBytes === undefined && slowConsumer === undefined && retryMs === undefined && retryJitter === undefined)
			return (this.#shared ??= new SubscriberConfig({ maxUnsentBytes: this.#limit, policy: this.#policy, retryJitter: this.#retryJitter }))
		return new SubscriberConfig({
			filter,
			maxUnsentBytes: maxUnsentBytes ?? this.#limit,
			policy: slowConsumer ?? this.#policy,
			retryMs,
			retryJitter: retryJitter ?? this.#retryJitter
		})
	}

	/**
	 * Adds `topic` to the open stream of many topics `connectionId` (a
	 * connection registry id) in this process, replaying its frames after
	 * `from.after` first. False when there is no such stream or it has the topic.
	 */
	addTopic(connectionId: number, topic: string, from?: TopicStart): boolean {
		return this.#many.get(connectionId)?.add(topic, from) ?? false
	}

	/** Removes `topic` from the open stream of many topics `connectionId` in this process. */
	removeTopic(connectionId: number, topic: string): boolean {
		return this.#many.get(connectionId)?.remove(topic) ?? false
	}

	/** The topics of the open stream of many topics `connectionId` in this process. */
	topicsOf(connectionId: number): string[] | undefined {
		return this.#many.get(connectionId)?.topics
	}

	#subscribeMany(stream: ResponseStream, topics: readonly string[], options: TopicsOptions, request?: Request): TopicsSubscription {
		const many = new TopicsSubscription(this.#host, stream, {
			...options,
			maxUnsentBytes: options.maxUnsentBytes ?? this.#limit,
			slowConsumer: options.slowConsumer ?? this.#policy,
			replayBytes: options.replayBytes ?? this.#replayBytes,
			retryJitter: options.retryJitter ?? this.#retryJitter
		})
		if (stream.closed) return many
		many.start(topics, options.lastEventId ?? (request && lastEventIdOf(request)))
		if (!stream.closed) this.#many.set(stream.id, many)
		return many
	}

	readonly #many = new Map<number, TopicsSubscription>()
	readonly #host = {
		transport: undefined as unknown as Transport,
		join: (name: string, member: TopicMember, presence?: PresenceOptions, user?: string): SubscriberHome => {
			const t = this.#topic(name)
			t.subscribers.add(member)
			const { leave, join } = presence ?? {}
			if (leave) t.leaveEvents.set(member, user === undefined ? leave : (count) => leave(count, user))
			this.sharedCounts.set(t.countKey, t.subscribers.size)
			if (join) this.#announce(name, 'join', (count) => join(count, user), t.subscribers.size)
			return t
		},
		ended: (many: TopicsSubscription) => {
			if (this.#many.get(many.stream.id) === many) this.#many.delete(many.stream.id)
		}
	}

	/** Stops listening to the transport and closes it. Open streams are left to their owner. */
	async close(): Promise<void> {
		if (this.#closed) return
		this.#closed = true
		this.sharedCounts.close()
		for (const t of this.#topics.values()) t.unlisten()
		this.#topics.clear()
		await this.transport.close()
	}

	/** The data as it goes on the wire: the registry's text when it has `wire`, else the value for encodeSse. */
	#wire(event: string, data: unknown): unknown {
		const registry = this.#registry
		if (!registry) return data
		let ok: unknown
		try {
			if (registry.wire) return registry.wire(event, data)
			ok = registry.check(event, data)
		} catch (error) {
			throw new BroadcastDataError(event, error)
		}
		if (ok === false) throw new BroadcastDataError(event, undefined)
		return data
	}

	#topic(name: string): Topic {
		let t = this.#topics.get(name)
		if (t) return t
		const topic = new Topic(name, this.#left)
		topic.unlisten = this.transport.listen(name, (frame) => {
			// Frames that arrive in one tick go out as one write per subscriber.
			if (topic.batch.push(frame) === 1) queueMicrotask(() => this.#fanOut(topic))
		})
		this.#topics.set(name, topic)
		return topic
	}

	#fanOut(topic: Topic): void {
		const frames = topic.batch
		topic.batch = []
		let joined: Uint8Array
		if (frames.length === 1) joined = frames[0]!.bytes
		else {
			let size = 0
			for (const f of frames) size += f.bytes.byteLength
			joined = new Uint8Array(size)
			let at = 0
			for (const f of frames) {
				joined.set(f.bytes, at)
				at += f.bytes.byteLength
			}
		}
		for (const sub of topic.subscribers) sub.deliver(frames, joined)
	}

	readonly #left = (t: Topic, sub: TopicMember) => this.#leave(t, sub)

	#leave(t: Topic, sub: TopicMember): void {
		t.subscribers.delete(sub)
		const leaveEvent = t.leaveEvents.size ? t.leaveEvents.get(sub) : undefined
		if (leaveEvent) t.leaveEvents.delete(sub)
		const name = t.name
		// A topic the hub no longer holds (closed) is not what the count is of.
		const current = this.#topics.get(name) === t
		if (current && t.subscribers.size === 0) {
			// Frames still batched for this topic have no one left to go to.
			t.unlisten()
			this.#topics.delete(name)
		}
		if (current) this.sharedCounts.set(t.countKey, t.subscribers.size)
		if (leaveEvent && !this.#closed) this.#announce(name, 'leave', leaveEvent, this.count(name))
	}

	#announce(topic: string, event: string, data: (count: number, user?: string) => unknown, count: number): void {
		// A join or leave that cannot be announced (e.g. Redis is away) is reported;
		// rethrowing it would crash the process over a presence notice.
		;(this as Hub).publish(topic, event, data(count)).catch((error) =>
			console.error(`broadcast: could not announce ${event} on "${topic}":`, error?.message ?? error)
		)
	}
}
