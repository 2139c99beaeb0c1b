import type { CloseReason } from '../stream'
import { checkAdmission, resolveLimits, type ConnectionLimits, type Refusal, type ResolvedLimits } from './limits'
import { clientAddressOf, type ClientAddressOptions } from './client-address'
import { Tally } from './tally'
import { drainStreams, farewellResponseBody, type DrainOptions, type DrainResult, type Farewells } from './drain'
import { connectionMetrics } from './connection-metrics'
import type { ConnectionInfo, LiveStream, StreamKind } from './types'

export type { ConnectionInfo, LiveStream, StreamKind }

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
}

type OpenListener = (connection: Connection) => void
type CloseListener = (connection: Connection, reason: CloseReason) => void
/** A registered stream. It listens for its own stream's end: no closure per stream. */
class Entry {
	constructor(
		readonly stream: LiveStream,
		readonly info: ConnectionInfo,
		private readonly remove: (entry: Entry, reason: CloseReason) => void
	) {}
	streamClosed(reason: CloseReason): void {
		this.remove(this, reason)
	}
}

const CLOSE_REASONS: CloseReason[] = ['done', 'client', 'error', 'server', 'slow', 'stalled']

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
	#openListeners: OpenListener[] = []
	#closeListeners: CloseListener[] = []
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
		const entry = new Entry(stream, info, this.#removeEntry)
		this.#live.set(stream.id, entry)
		this.#opened++
		this.#tally(info, 'add')
		stream.onClose(entry)
		if (this.#openListeners.length) this.#emit(this.#openListeners, snapshot(entry))
		// Opened past admit() while a drain runs: it is drained too, or stop() would wait for it.
		if (this.#draining) void drainStreams([entry], this.#draining)
	}

	/**
	 * Whether one more stream from `address` may open now: undefined if so, or
	 * why not (503 while draining or at `maxStreams`, 429 at `maxPerAddress`).
	 * Call it right before opening the stream, with no await in between.
	 * `kind` lets a refusal while draining carry that kind's farewell.
	 */
	admit(address?: string, kind?: StreamKind): Refusal | undefined {
		const refusal = checkAdmission(this.limits, {
			draining: this.#draining !== undefined,
			total: this.#live.size,
			fromAddress: address === undefined ? 0 : this.#byAddress.get(address)
		})
		if (!refusal) return undefined
		this.#refusedBy.add(refusal.reason)
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

	/** Live counts, total and by route, topic, address and kind. */
	counts(): ConnectionCounts {
		return {
			total: this.#live.size,
			byRoute: this.#byRoute.toObject(),
			byTopic: this.#byTopic.toObject(),
			byAddress: this.#byAddress.toObject(),
			byKind: this.#byKind.toObject()
		}
	}

	/** A snapshot of one live stream. */
	get(id: number): Connection | undefined {
		const entry = this.#live.get(id)
		return entry && snapshot(entry)
	}

	/** Snapshots of every live stream, oldest first; `filter` keeps some. */
	list(filter?: (connection: Connection) => boolean): Connection[] {
		const all = [...this.#live.values()].map(snapshot)
		return filter ? all.filter(filter) : all
	}

	/** Replaces the topics a live stream is counted under (a stream of many topics gained or lost one). */
	setTopics(id: number, topics: string[]): boolean {
		const entry = this.#live.get(id)
		if (!entry) return false
		for (const topic of new Set(entry.info.topics)) this.#byTopic.remove(topic)
		entry.info.topics.splice(0, entry.info.topics.length, ...topics)
		for (const topic of new Set(topics)) this.#byTopic.add(topic)
		return true
	}

	/** Closes one stream; false if there is none with that id. */
	close(id: number, reason: CloseReason = 'server'): boolean {
		const entry = this.#live.get(id)
		entry?.stream.close(reason)
		return entry !== undefined
	}

	/** Runs `listener` for every stream that opens. Returns a remover. */
	onOpen(listener: OpenListener): () => void {
		return listen(this.#openListeners, listener)
	}

	/** Runs `listener` for every stream that ends, with why. Returns a remover. */
	onClose(listener: CloseListener): () => void {
		return listen(this.#closeListeners, listener)
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
		for (const { stream, info } of this.#live.values()) {
			live.events.add(info.kind, stream.eventsSent)
			live.bytes.add(info.kind, stream.bytesSent)
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

	readonly #removeEntry = (entry: Entry, reason: CloseReason) => this.#remove(entry, reason)

	#remove(entry: Entry, reason: CloseReason): void {
		if (!this.#live.delete(entry.stream.id)) return
		this.#tally(entry.info, 'remove')
		this.#closedBy.add(reason)
		this.#sentByKind.events.add(entry.info.kind, entry.stream.eventsSent)
		this.#sentByKind.bytes.add(entry.info.kind, entry.stream.bytesSent)
		if (this.#closeListeners.length === 0) return
		const connection = snapshot(entry)
		for (const listener of this.#closeListeners.slice()) guard(() => listener(connection, reason))
	}

	#tally(info: ConnectionInfo, op: 'add' | 'remove'): void {
		this.#byRoute[op](info.route)
		this.#byKind[op](info.kind)
		if (info.address !== undefined) this.#byAddress[op](info.address)
		for (const topic of new Set(info.topics)) this.#byTopic[op](topic)
	}

	#emit(listeners: OpenListener[], connection: Connection): void {
		for (const listener of listeners.slice()) guard(() => listener(connection))
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
		queueMicrotask(() => {
			throw error
		})
	}
}

const snapshot = ({ stream, info }: Entry): Connection => ({
	...info,
	topics: [...info.topics],
	id: stream.id,
	startedAt: stream.startedAt,
	bytesSent: stream.bytesSent,
	eventsSent: stream.eventsSent,
	lastEventId: stream.lastEventId,
	unsentBytes: stream.unsentBytes ?? 0
})
