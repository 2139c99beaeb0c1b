import type { EventCodec } from '../events/codec'
import type { EventMessage, EventSchemas, EventTypes } from '../events/types'
import { SluiceError } from '../errors'
import { ownIdOf } from '../hub/topic-cursor'
import { SseClient, type ConnectOptions } from './connect'
import { decoderFor, SKIP } from './decode'
import type { WorkerNote } from './share-worker'

/** Options of shareTopics(). */
export interface ShareOptions extends ConnectOptions {
	/** The server's event registry: data decoded as it was sent (see connect()). */
	events?: EventCodec<any>
	/** The query parameter the topics go in, comma-separated. @default 'topics' */
	param?: string
	/**
	 * Share one stream among the tabs of the origin (a leader tab holds the
	 * connection, elected with Web Locks; frames reach the others over a
	 * BroadcastChannel). Off, or where the browser has neither, every reader
	 * opens its own stream. @default true
	 */
	share?: boolean
	/** Name of the lock and the channel: readers of one name share a stream. @default 'sluice:' + the URL */
	name?: string
	/**
	 * URL of a SharedWorker script that calls `shareWorker()`: where the browser
	 * has SharedWorker, the stream lives in it (no leader tab, no hand-over).
	 * Only data options cross to it (`init` with plain headers, `retryMs`,
	 * `maxRetryMs`, `jitter`, `lastEventIdIn`); `fetch`, `signal` and the callbacks stay unused.
	 */
	worker?: string | URL
}

/** A raw event as it travels between tabs. */
interface Raw {
	event?: string
	data: string
	id?: string
	topic?: string
}

type Note =
	| { type: 'want'; tab: string; topics: string[] }
	| { type: 'bye'; tab: string }
	| { type: 'hello' }
	| { type: 'frame'; m: Raw }
	| { type: 'failed'; message: string }
	| { type: 'ended' }

/**
 * The last id any reader of a name had in this page: a reader that replaces one
 * (new topics chosen on the page) and becomes the leader resumes from it.
 */
const lastIds = new Map<string, string>()

/** The page's address (relative URLs resolve against it), or a placeholder outside a browser. */
const pageHref = () => (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/'

interface Locks {
	request(name: string, callback: () => Promise<void>): Promise<void>
}

/**
 * One stream of many topics, shared by every tab of the origin that reads the
 * same URL: the browser's limit of 6 connections per origin is spent once,
 * however many tabs and topics. Each reader gets only its topics' events (and
 * the stream's own notices). When the tab holding the connection closes,
 * another takes over and resumes from the last id every tab has seen: no
 * event lost, none doubled (each topic's events are kept in id order and an
 * id already had is dropped). The server's route reads the topics from the
 * query (`?topics=a,b`), authorizes them and calls `subscribe(topics)`.
 *
 * @example
 * for await (const m of shareTopics('/live', ['chat:42', 'prices'], { events })) console.log(m.topic, m.event, m.data)
 */
export function shareTopics<S extends EventSchemas>(
	url: string | URL,
	topics: string[],
	options: ShareOptions & { events: EventCodec<S> }
): SharedTopics<EventTypes<S>>
export function shareTopics(url: string | URL, topics: string[], options?: ShareOptions): SharedTopics<Record<string, string>>
export function shareTopics(url: string | URL, topics: string[], options: ShareOptions = {}) {
	return new SharedTopics(url, topics, options)
}

/** A reader of some topics of a shared stream (see shareTopics). Iterate it once; close() leaves. */
export class SharedTopics<Events = Record<string, string>> implements AsyncIterable<EventMessage<Events>> {
	/** This reader's tab id. */
	readonly tab = crypto.randomUUID()
	#topics: Set<string>
	#wants = new Map<string, string[]>()
	#channel: BroadcastChannel | undefined
	/** In a SharedWorker's care: its port. */
	#port: MessagePort | undefined
	#decode
	#queue: (EventMessage<Events> | Error)[] = []
	#wake: (() => void) | undefined
	#closed = false
	#leader = false
	#client: SseClient | undefined
	#connectedTo = ''
	#release: (() => void) | undefined
	/** The id of the last event had, any topic: where a new leader resumes. */
	#cursor: string | undefined
	/** Per topic, the last event's own id: older ones (a hand-over's overlap) are dropped. */
	#seen = new Map<string, number>()
	#union = Promise.resolve()
	/** Set when the stream is closed to be opened again for a new set of topics. */
	#reopen = false
	#name: string

	constructor(
		readonly url: string | URL,
		topics: string[],
		private readonly options: ShareOptions = {}
	) {
		if (topics.length === 0) throw new SluiceError('TOPICS_INVALID', 'shareTopics: give at least one topic')
		this.#topics = new Set(topics)
		this.#decode = decoderFor(options.events, options.validate)
		this.#name = options.name ?? `sluice:${new URL(url, pageHref()).href}`
		this.#cursor = options.lastEventId ?? lastIds.get(this.#name)
		const Shared = (globalThis as { SharedWorker?: new (url: string | URL, options?: { name?: string }) => { port: MessagePort } }).SharedWorker
		if (options.share !== false && options.worker !== undefined && Shared) {
			const port = (this.#port = new Shared(options.worker, { name: 'sluice' }).port)
			port.onmessage = (e: { data: unknown }) => this.#note(e.data as Note)
			const { init, retryMs, maxRetryMs, jitter, lastEventIdIn } = options
			const lastEventId = this.#cursor
			const headers = init?.headers ? Object.fromEntries(new Headers(init.headers)) : undefined
			this.#toWorker({
				type: 'want',
				name: this.#name,
				tab: this.tab,
				url: new URL(url, pageHref()).href,
				param: options.param ?? 'topics',
				topics: [...this.#topics],
				options: { init: init && { ...init, headers, body: undefined }, retryMs, maxRetryMs, jitter, lastEventIdIn, lastEventId }
			})
			globalThis.addEventListener?.('pagehide', () => this.close())
			return
		}
		const locks = (globalThis.navigator as { locks?: Locks } | undefined)?.locks
		if (options.share === false || typeof BroadcastChannel === 'undefined' || !locks) {
			this.#leader = true
			void this.#lead()
			return
		}
		const channel = (this.#channel = new BroadcastChannel(this.#name))
		channel.onmessage = (e: { data: unknown }) => this.#note(e.data as Note)
		this.#post({ type: 'want', tab: this.tab, topics: [...this.#topics] })
		globalThis.addEventListener?.('pagehide', () => this.close())
		void locks.request(this.#name, () => {
			if (this.#closed) return Promise.resolve()
			this.#leader = true
			this.#post({ type: 'hello' })
			void this.#lead()
			return new Promise<void>((resolve) => (this.#release = resolve))
		})
	}

	/** True while this tab holds the shared connection. */
	get leader(): boolean {
		return this.#leader
	}

	/** The topics of this reader. */
	get topics(): string[] {
		return [...this.#topics]
	}

	/** Stops reading; the connection passes to another tab, if one reads. */
	close(): void {
		if (this.#closed) return
		this.#closed = true
		this.#post({ type: 'bye', tab: this.tab })
		this.#toWorker({ type: 'bye', name: this.#name, tab: this.tab })
		this.#port?.close()
		this.#client?.close()
		this.#release?.()
		this.#channel?.close()
		this.#wake?.()
	}

	async *[Symbol.asyncIterator](): AsyncGenerator<EventMessage<Events>, void, undefined> {
		try {
			for (;;) {
				const next = this.#queue.shift()
				if (next instanceof Error) throw next
				if (next) {
					yield next
					continue
				}
				if (this.#closed) return
				await new Promise<void>((resolve) => (this.#wake = resolve))
			}
		} finally {
			this.close()
		}
	}

	#post(note: Note): void {
		try {
			this.#channel?.postMessage(note)
		} catch {}
	}

	#toWorker(note: WorkerNote): void {
		try {
			this.#port?.postMessage(note)
		} catch {}
	}

	#note(note: Note): void {
		if (this.#closed) return
		if (note.type === 'frame') return this.#take(note.m)
		if (note.type === 'ended') return this.close()
		if (note.type === 'want') this.#wants.set(note.tab, note.topics)
		else if (note.type === 'bye') this.#wants.delete(note.tab)
		else if (note.type === 'hello') return this.#post({ type: 'want', tab: this.tab, topics: [...this.#topics] })
		else if (note.type === 'failed') return this.#fail(new SluiceError('SHARED_STREAM_FAILED', note.message))
		if (this.#leader) this.#reconnectIfChanged()
	}

	/** Every topic some tab reads, sorted: the stream's query. */
	#unionKey(): string {
		const all = new Set(this.#topics)
		for (const topics of this.#wants.values()) for (const t of topics) all.add(t)
		return [...all].sort().join(',')
	}

	#reconnectIfChanged(): void {
		// Wants that come together (a new leader's hello) make one reconnect.
		this.#union = this.#union.then(() => {
			if (!this.#client || this.#unionKey() === this.#connectedTo) return
			this.#reopen = true
			this.#client.close()
		})
	}

	/** The leader's loop: one stream for the union of topics, opened again when the union changes. */
	async #lead(): Promise<void> {
		while (!this.#closed) {
			const key = this.#unionKey()
			const target = new URL(this.url, pageHref())
			target.searchParams.set(this.options.param ?? 'topics', key)
			// Raw events: each tab decodes its own with its registry.
			const { events: _events, validate: _validate, ...connectOptions } = this.options
			const client = (this.#client = new SseClient(target, { ...connectOptions, lastEventId: this.#cursor }))
			this.#connectedTo = key
			try {
				for await (const m of client) {
					const raw = m as Raw
					this.#post({ type: 'frame', m: raw })
					this.#take(raw)
				}
			} catch (error) {
				const message = (error as Error).message
				this.#post({ type: 'failed', message })
				return this.#fail(error as Error)
			}
			// The stream ended for good (HTTP 204) unless it was closed to change its topics.
			if (!this.#reopen) return this.close()
			this.#reopen = false
		}
	}

	/** One event from the stream or the channel: dropped if already had, kept if one of this reader's topics. */
	#take(m: Raw): void {
		if (m.topic !== undefined && m.id !== undefined) {
			const own = ownIdOf(m.id)
			if (own !== undefined) {
				const seen = this.#seen.get(m.topic)
				if (seen !== undefined && own <= seen) return
				this.#seen.set(m.topic, own)
			}
		}
		if (m.id !== undefined) lastIds.set(this.#name, (this.#cursor = m.id))
		if (m.topic !== undefined && !this.#topics.has(m.topic)) return
		// A topic's ids started over (replay-incomplete): what follows is new.
		if (m.event === 'sluice:replay-incomplete' && m.topic !== undefined) this.#seen.delete(m.topic)
		let decoded
		try {
			decoded = this.#decode({ event: m.event ?? 'message', data: m.data, id: m.id, topic: m.topic } as never)
		} catch (error) {
			return this.#fail(error as Error)
		}
		if (decoded === SKIP) return
		this.#queue.push(decoded as EventMessage<Events>)
		this.#wake?.()
	}

	#fail(error: Error): void {
		this.#queue.push(error)
		this.#wake?.()
		this.close()
	}
}
