import type { CloseReason, StreamTrouble } from '../stream'
import { checkAdmission, resolveLimits, type ConnectionLimits, type Refusal, type ResolvedLimits } from './limits'
import { clientAddressOf, type ClientAddressOptions } from './client-address'
import { Tally } from './tally'
import { drainStreams, farewellResponseBody, type DrainOptions, type DrainResult, type Farewells } from './drain'
import { connectionMetrics } from './connection-metrics'
import type { ConnectionInfo, LiveStream, StreamKind } from './types'
import { ExpiryQueue, expireStream, type Expiring, type ExpiryOptions } from './expiry'
import type { ControlChannel, ControlMessage } from '../hub/transport'
import { OptionError } from '../errors'

export type { ConnectionInfo, LiveStream, StreamKind }

/**
 * Which streams `close()` and `list()` pick: those of `user`, those subscribed
 * to `topic`, or (both given) those of the user on the topic.
 */
export interface ConnectionSelector {
	user?: string
	topic?: string
}

/** A live stream, as the registry reports it. */
export interface Connection extends ConnectionInfo {
	id: number
	startedAt: number
	bytesSent: number
	eventsSent: number
	lastEventId: string | undefined
	/** Bytes written that the client has not taken yet: a client falling behind shows here. */
	unsentBytes: number
}

/** Live counts: total, and per route, topic, client address and kind. */
export interface ConnectionCounts {
	total: number
	byRoute: Record<string, number>
	byTopic: Record<string, number>
	byAddress: Record<string, number>
	byKind: Record<string, number>
	/** Streams per user (those opened with a `user`); not summed over a cluster. */
	byUser: Record<string, number>
}

/** Options of a ConnectionRegistry. */
export interface ConnectionRegistryOptions extends ConnectionLimits, ClientAddressOptions {
	/**
	 * The client address a stream is counted under (for `maxPerAddress`,
	 * `byAddress` and the connection list), in place of the `trustProxy` rule.
	 * @default the socket's peer, or the client a trusted proxy names (see trustProxy)
	 */
	addressOf?: (request: Request, peer: string | undefined) => string | undefined
	/** The last frame each kind of stream is sent on drain (see DrainOptions). @default an SSE `shutdown` event with a `retry:` hint; none for ndjson and file */
	farewells?: Farewells
	/** The `retry:` hint an SSE stream gets when its `expiresAt` passes. @default { retryMs: 1000, retryJitter: 0.5 } */
	expiry?: ExpiryOptions
}

/**
 * What went wrong with a stream, as the registry saw it: it ended badly
 * (`slow`, `stalled`, `error`), met trouble without ending (`dropped` frames,
 * `replay-incomplete`), or was refused before opening (`refused-503`, `refused-429`).
 */
export interface Trouble {
	kind: TroubleKind
	/** Route pattern of the stream (of a refused one, when the helper named it). */
	route?: string
	address?: string
	/** The stream's id; none for a refusal. */
	id?: number
	/** How many (frames dropped); 1 otherwise. */
	count: number
	/** Why, in words (a refusal's message). */
	detail?: string
}

/** Every kind of trouble, in the order a dashboard lists them. */
export const TROUBLE_KINDS = ['slow', 'stalled', 'dropped', 'replay-incomplete', 'refused-503', 'refused-429', 'error'] as const
export type TroubleKind = (typeof TROUBLE_KINDS)[number]

const TROUBLED_ENDS: Partial<Record<CloseReason, TroubleKind>> = { slow: 'slow', stalled: 'stalled', error: 'error' }

type OpenListener = (connection: Connection) => void
type CloseListener = (connection: Connection, reason: CloseReason) => void
type TroubleListener = (trouble: Trouble) => void
/**
 * A registered stream: its info's fields (copied, one object per stream rather than two) and its
 * stream. It listens for its own stream's end: no closure per stream.
 */
class Entry implements ConnectionInfo, Expiring {
	expiryIndex = -1
	readonly kind: StreamKind
	readonly route: string
	readonly topics: string[]
	readonly address: string | undefined
	readonly userAgent: string | undefined
	readonly user: string | undefined
	/** When it expires (epoch ms); Infinity when it does not. */
	readonly expiresAt: number
	constructor(
		readonly stream: LiveStream,
		info: ConnectionInfo,
		private readonly registry: ConnectionRegistry
	) {
		this.kind = info.kind
		this.route = info.route
		this.topics = info.topics
		this.address = info.address
		this.userAgent = info.userAgent
		this.user = info.user
		this.expiresAt = info.expiresAt ?? Infinity
	}
	streamClosed(reason: CloseReason): void {
		this.registry[removeEntry](this, reason)
	}
	streamTrouble(kind: StreamTrouble, count: number): void {
		this.registry[troubleOf](this, kind, count)
	}
}

// Called by entries only: symbols keep them off the registry's public API.
const removeEntry = Symbol('removeEntry')
const troubleOf = Symbol('troubleOf')

const CLOSE_REASONS: CloseReason[] = ['done', 'client', 'error', 'server', 'slow', 'stalled', 'expired']

/** The control message that closes matching streams on the other processes. */
const CLOSE_MESSAGE = 'sluice:close'

/**
 * Every live stream, registered when it opens and removed when it ends,
 * however it ends. Counts are live; limits are checked before a stream opens
 * (admit); drain() closes every stream with a last frame, within a grace period.
 */
export class ConnectionRegistry {
	readonly options: ConnectionRegistryOptions
	/** The limits in force: the options with their defaults (maxStreams from the descriptor limit), Infinity where off. */
	readonly limits: ResolvedLimits
	readonly #addressOf: (request: Request, peer: string | undefined) => string | undefined
	#live = new Map<number, Entry>()
	#byRoute = new Tally()
	#byTopic = new Tally()
	#byAddress = new Tally()
	#byKind = new Tally()
	#byUser = new Tally()
	#expiries = new ExpiryQueue<Entry>(({ stream, kind }) => expireStream(stream, kind, this.options.expiry))
	#control: ControlChannel | undefined
	#openListeners: OpenListener[] = []
	#closeListeners: CloseListener[] = []
	#troubleListeners: TroubleListener[] = []
	#draining: DrainOptions | undefined
	// Cumulative, for metrics: what streams that already ended sent, and how they ended.
	#opened = 0
	#closedBy = new Tally()
	#refusedBy = new Tally()
	#sentByKind = { events: new Tally(), bytes: new Tally() }

	constructor(options: ConnectionRegistryOptions = {}) {
		this.options = options
		this.limits = resolveLimits(options)
		this.#addressOf = options.addressOf ?? clientAddressOf(options)
	}

	/** Registers `stream`; it is removed when the stream closes, however it closes. */
	add(stream: LiveStream, info: ConnectionInfo): void {
		if (stream.closed || this.#live.has(stream.id)) return
		const entry = new Entry(stream, info, this)
		this.#live.set(stream.id, entry)
		this.#opened++
		this.#tally(entry, 'add')
		stream.onClose(entry)
		if (entry.expiresAt !== Infinity) this.#expiries.add(entry)
		if (this.#openListeners.length) this.#emit(this.#openListeners, entry)
		// Opened past admit() while a drain runs: it is drained too, or stop() would wait for it.
		if (this.#draining) void drainStreams([entry], this.#draining)
	}

	/**
	 * Whether one more stream from `address` may open now: undefined if so, or
	 * why not (503 while draining or at `maxStreams`, 429 at `maxPerAddress`).
	 * Call it right before opening the stream, with no await in between.
	 * `kind` lets a refusal while draining carry that kind's farewell; `route`
	 * names the route in the trouble a refusal is reported as.
	 */
	admit(address?: string, kind?: StreamKind, route?: string): Refusal | undefined {
		const refusal = checkAdmission(this.limits, {
			draining: this.#draining !== undefined,
			total: this.#live.size,
			fromAddress: address === undefined ? 0 : this.#byAddress.get(address)
		})
		if (!refusal) return undefined
		this.#refusedBy.add(refusal.reason)
		if (this.#troubleListeners.length)
			this.#emitTrouble({ kind: `refused-${refusal.status}`, route, address, count: 1, detail: refusal.message })
		if (refusal.reason === 'draining' && kind) refusal.farewell = farewellResponseBody(kind, this.#draining!)
		return refusal
	}

	/** The client address a request's stream is counted under, from the socket's peer (see trustProxy). */
	addressOf(request: Request, peer: string | undefined): string | undefined {
		return this.#addressOf(request, peer)
	}

	/** Number of live streams. */
	get count(): number {
		return this.#live.size
	}

	/** Streams opened since the registry was made. */
	get opened(): number {
		return this.#opened
	}

	/**
	 * Live counts, total and by route, topic, address, kind and user. `addresses: false`
	 * leaves `byAddress` empty: with thousands of clients it is most of the cost; `topics: false`
	 * and `users: false` do the same for `byTopic` and `byUser` (per-user topics make them as long).
	 */
	counts({ addresses = true, topics = true, users = true }: { addresses?: boolean; topics?: boolean; users?: boolean } = {}): ConnectionCounts {
		return {
			total: this.#live.size,
			byRoute: this.#byRoute.toObject(),
			byTopic: topics ? this.#byTopic.toObject() : {},
			byAddress: addresses ? this.#byAddress.toObject() : {},
			byKind: this.#byKind.toObject(),
			byUser: users ? this.#byUser.toObject() : {}
		}
	}

	/** Streams waiting for their `expiresAt`. */
	get expiring(): number {
		return this.#expiries.size
	}

	/** A snapshot of one live stream. */
	get(id: number): Connection | undefined {
		const entry = this.#live.get(id)
		return entry && snapshot(entry)
	}

	/**
	 * Snapshots of every live stream, oldest first; `filter` keeps some: a
	 * function, or a selector (`{ user }`, `{ topic }`).
	 */
	list(filter?: ((connection: Connection) => boolean) | ConnectionSelector): Connection[] {
		if (filter && typeof filter === 'object') {
			const matches = matcher(filter)
			return [...this.#live.values()].filter(matches).map(snapshot)
		}
		const all = [...this.#live.values()].map(snapshot)
		return filter ? all.filter(filter) : all
	}

	/** Snapshots of at most `limit` live streams from the `offset`-th, oldest first: a page of a long list. */
	slice(offset: number, limit: number): Connection[] {
		const out: Connection[] = []
		if (limit <= 0) return out
		let i = 0
		for (const entry of this.#live.values()) {
			if (i++ < offset) continue
			out.push(snapshot(entry))
			if (out.length >= limit) break
		}
		return out
	}

	/** Events and bytes sent since the registry was made, by streams ended and live. */
	sent(): { events: number; bytes: number } {
		let events = 0
		let bytes = 0
		for (const [, n] of this.#sentByKind.events.entries()) events += n
		for (const [, n] of this.#sentByKind.bytes.entries()) bytes += n
		for (const { stream } of this.#live.values()) {
			events += stream.eventsSent
			bytes += stream.bytesSent
		}
		return { events, bytes }
	}

	/** Replaces the topics a live stream is counted under (a stream of many topics gained or lost one). */
	setTopics(id: number, topics: string[]): boolean {
		const entry = this.#live.get(id)
		if (!entry) return false
		for (const topic of new Set(entry.topics)) this.#byTopic.remove(topic)
		entry.topics.splice(0, entry.topics.length, ...topics)
		for (const topic of new Set(topics)) this.#byTopic.add(topic)
		return true
	}

	/** Closes one stream; false if there is none with that id. */
	close(id: number, reason?: CloseReason): boolean
	/**
	 * Closes every stream of a user (`{ user }`), of a topic (`{ topic }`), or
	 * both (the user's streams on the topic): in this process at once, and, when
	 * the app's broadcast transport spans processes (redis), on every other
	 * process too, by a control message (within a second). Returns how many
	 * streams closed here. Each closes as close(id) does: no last frame.
	 */
	close(selector: ConnectionSelector, reason?: CloseReason): number
	close(target: number | ConnectionSelector, reason: CloseReason = 'server'): boolean | number {
		if (typeof target === 'number') {
			const entry = this.#live.get(target)
			entry?.stream.close(reason)
			return entry !== undefined
		}
		const selector = selectorOf(target)
		const closed = this.#closeMatching(selector, reason)
		this.#control
			?.send({ type: CLOSE_MESSAGE, ...selector, reason })
			.catch((error) => console.error('connections: could not send close to the other processes:', error?.message ?? error))
		return closed
	}

	/**
	 * @internal Carries close({ user | topic }) to the other processes of the
	 * app's transport (the broadcast plugin links it when the app starts), and
	 * applies theirs here. Returns the unlinker.
	 */
	linkControl(channel: ControlChannel | undefined): () => void {
		this.#control = channel
		const off = channel?.listen((message) => this.#onControl(message))
		return () => {
			off?.()
			if (this.#control === channel) this.#control = undefined
		}
	}

	/** Runs `listener` for every stream that opens. Returns a remover. */
	onOpen(listener: OpenListener): () => void {
		return listen(this.#openListeners, listener)
	}

	/** Runs `listener` for every stream that ends, with why. Returns a remover. */
	onClose(listener: CloseListener): () => void {
		return listen(this.#closeListeners, listener)
	}

	/**
	 * Runs `listener` for every trouble: a stream that ended slow, stalled or
	 * failed, frames dropped, a replay with a gap, a refusal. Returns a remover.
	 */
	onTrouble(listener: TroubleListener): () => void {
		return listen(this.#troubleListeners, listener)
	}

	/** True from drain() on: new streams are refused with 503. */
	get draining(): boolean {
		return this.#draining !== undefined
	}

	/** Lets streams in again after a drain (the server is listening again). */
	reopen(): void {
		this.#draining = undefined
	}

	/**
	 * Refuses new streams, sends every stream its last frame and closes it, and
	 * resolves once all have ended, within `graceMs` (streams left then are cut).
	 */
	drain(options: DrainOptions = {}): Promise<DrainResult> {
		this.#draining = { farewells: this.options.farewells, ...options }
		return drainStreams([...this.#live.values()], this.#draining)
	}

	/** Metrics in the Prometheus text format. */
	metrics(): string {
		const live = { events: new Tally(), bytes: new Tally() }
		for (const { stream, kind } of this.#live.values()) {
			live.events.add(kind, stream.eventsSent)
			live.bytes.add(kind, stream.bytesSent)
		}
		const sent = (what: 'events' | 'bytes', kind: StreamKind) =>
			this.#sentByKind[what].get(kind) + live[what].get(kind)
		return connectionMetrics({
			open: this.#live.size,
			openByRoute: this.#byRoute,
			opened: this.#opened,
			closed: (reason) => this.#closedBy.get(reason),
			closeReasons: CLOSE_REASONS,
			refused: (reason) => this.#refusedBy.get(reason),
			sent
		})
	}

	#closeMatching(selector: ConnectionSelector, reason: CloseReason): number {
		const matches = matcher(selector)
		// Picked first: closing a stream removes it from #live.
		const picked = [...this.#live.values()].filter(matches)
		for (const entry of picked) entry.stream.close(reason)
		return picked.length
	}

	#onControl(message: ControlMessage): void {
		if (message.type !== CLOSE_MESSAGE) return
		let selector: ConnectionSelector
		try {
			selector = selectorOf(message as ConnectionSelector)
		} catch {
			return // another version's message, or not ours: nothing to close
		}
		const reason = CLOSE_REASONS.includes(message.reason as CloseReason) ? (message.reason as CloseReason) : 'server'
		this.#closeMatching(selector, reason)
	}

	/** @internal */
	[removeEntry](entry: Entry, reason: CloseReason): void {
		if (!this.#live.delete(entry.stream.id)) return
		this.#expiries.remove(entry)
		this.#tally(entry, 'remove')
		this.#closedBy.add(reason)
		this.#sentByKind.events.add(entry.kind, entry.stream.eventsSent)
		this.#sentByKind.bytes.add(entry.kind, entry.stream.bytesSent)
		const trouble = TROUBLED_ENDS[reason]
		if (trouble) this[troubleOf](entry, trouble, 1)
		if (this.#closeListeners.length === 0) return
		notify(this.#closeListeners, snapshotFor(this.#closeListeners, entry), reason)
	}

	/** @internal */
	[troubleOf]({ route, address, stream }: Entry, kind: TroubleKind, count: number): void {
		if (this.#troubleListeners.length) this.#emitTrouble({ kind, route, address, id: stream.id, count })
	}

	#emitTrouble(trouble: Trouble): void {
		for (const listener of this.#troubleListeners.slice()) guard(() => listener(trouble))
	}

	#tally(info: ConnectionInfo, op: 'add' | 'remove'): void {
		this.#byRoute[op](info.route)
		this.#byKind[op](info.kind)
		if (info.address !== undefined) this.#byAddress[op](info.address)
		if (info.user !== undefined) this.#byUser[op](info.user)
		const topics = info.topics
		// One topic is the usual case: no Set made per stream for it.
		if (topics.length === 1) this.#byTopic[op](topics[0]!)
		else if (topics.length > 1) for (const topic of new Set(topics)) this.#byTopic[op](topic)
	}

	#emit(listeners: OpenListener[], entry: Entry): void {
		notify(listeners, snapshotFor(listeners, entry), undefined)
	}
}

function listen<T>(list: T[], listener: T): () => void {
	list.push(listener)
	return () => {
		const i = list.indexOf(listener)
		if (i !== -1) list.splice(i, 1)
	}
}

// A listener's bug must not break registration or the other listeners; it is rethrown out of band.
function guard(run: () => void): void {
	try {
		run()
	} catch (error) {
		rethrowLater(error)
	}
}

function rethrowLater(error: unknown): void {
	queueMicrotask(() => {
		throw error
	})
}

/**
 * Calls every listener with (a, b), each guarded. A listener may add or remove listeners: several
 * are called from a copy; one (the usual case, made per stream) is called without making one.
 */
function notify<A, B>(listeners: ((a: A, b: B) => void)[], a: A, b: B): void {
	const list = listeners.length > 1 ? listeners.slice() : listeners
	for (let i = 0, n = list.length; i < n; i++) {
		const listener = list[i]
		if (!listener) break
		try {
			listener(a, b)
		} catch (error) {
			rethrowLater(error)
		}
	}
}

// Listeners told only that something changed (the counts shared with a cluster) read no snapshot.
const changeOnly = new WeakSet<Function>()

/** @internal Marks `listener` as one that reads no connection: no snapshot is made per stream for it. */
export const changeListener = <T extends Function>(listener: T): T => {
	changeOnly.add(listener)
	return listener
}

/** The snapshot listeners are given; none when none of them reads it. */
const snapshotFor = (listeners: readonly Function[], entry: Entry): Connection => {
	for (const listener of listeners) if (!changeOnly.has(listener)) return snapshot(entry)
	return undefined as unknown as Connection
}

/** A selector with a string user or topic, at least one: an empty one would close every stream. */
function selectorOf({ user, topic }: ConnectionSelector): ConnectionSelector {
	if (user === undefined && topic === undefined) throw new OptionError('close(): give a user or a topic ({ user } or { topic })')
	if ((user !== undefined && typeof user !== 'string') || (topic !== undefined && typeof topic !== 'string'))
		throw new OptionError('close(): user and topic must be strings')
	return user === undefined ? { topic } : topic === undefined ? { user } : { user, topic }
}

const matcher =
	({ user, topic }: ConnectionSelector) =>
	(entry: Entry): boolean =>
		(user === undefined || entry.user === user) && (topic === undefined || entry.topics.includes(topic))

function snapshot(entry: Entry): Connection {
	const { stream } = entry
	const connection: Connection = {
		kind: entry.kind,
		route: entry.route,
		topics: [...entry.topics],
		address: entry.address,
		userAgent: entry.userAgent,
		id: stream.id,
		startedAt: stream.startedAt,
		bytesSent: stream.bytesSent,
		eventsSent: stream.eventsSent,
		lastEventId: stream.lastEventId,
		unsentBytes: stream.unsentBytes ?? 0
	}
	// Only the stream's own: a connection without a user or an expiry has no such keys.
	if (entry.user !== undefined) connection.user = entry.user
	if (entry.expiresAt !== Infinity) connection.expiresAt = entry.expiresAt
	return connection
}
