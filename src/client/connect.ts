import type { EventMessage, EventSchemas, EventTypes } from '../events/types'
import type { EventCodec } from '../events/codec'
import { abortableSleep } from '../stream/sleep'
import { decoderFor, SKIP, type Decoder } from './decode'
import { SluiceError } from '../errors'
import { SseClientError } from './errors'
import { readFrames, type StreamState } from './frames'

/** Headers as fetch takes them (a Headers, a record, or pairs). */
export type RequestHeaders = NonNullable<RequestInit['headers']>

/** Options of connect(). */
export interface ConnectOptions {
	/** Request options (method, body, credentials, headers...). `Accept` and `Last-Event-ID` are set for you. */
	init?: Omit<RequestInit, 'signal'>
	/**
	 * Headers of every request, over `init.headers`. A function (sync or async)
	 * is called before each connect and reconnect: a client sends a fresh token
	 * each time, e.g. `headers: async () => ({ authorization: `Bearer ${await token()}` })`.
	 * A throw (or rejection) counts as a failed attempt: it is retried with the backoff.
	 */
	headers?: RequestHeaders | (() => RequestHeaders | Promise<RequestHeaders>)
	/** The fetch to use. @default globalThis.fetch */
	fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
	/** Stops the reader (like close()) when aborted. */
	signal?: AbortSignal
	/** Reconnect when the stream ends or the network fails. @default true */
	reconnect?: boolean
	/** Reconnection delay in ms until the server sends `retry:`. @default 1000 */
	retryMs?: number
	/** Upper bound of the delay (ms) while failures repeat (it doubles each time). @default 30000 */
	maxRetryMs?: number
	/** Extra random delay, as a fraction of the delay, so clients don't all come back at once. @default 0.2 */
	jitter?: number
	/** The Last-Event-ID to start from. */
	lastEventId?: string
	/**
	 * Where the last id goes on reconnect. A `Last-Event-ID` header makes a
	 * cross-origin browser request preflighted (CORS); the `lastEventId` query
	 * parameter, which sse() also reads, does not. @default 'header'
	 */
	lastEventIdIn?: 'header' | 'query'
	/**
	 * Check each decoded value against the registry's schema, throwing an
	 * SseClientError ('decode') on a mismatch: catches a server that drifted
	 * from the client's registry. Compiles checkers (needs eval). @default false
	 */
	validate?: boolean
	/** Called with each successful response (status 2xx, text/event-stream). */
	onOpen?: (response: Response) => void
	/** Called before each reconnect, with the delay and what ended the previous attempt. */
	onReconnect?: (info: { attempt: number; delayMs: number; error?: unknown }) => void
}

/**
 * A reconnecting SSE reader: iterate it with `for await`. Leaving the loop
 * (break, return, throw) or close() ends the request, so the server sees the
 * client go. It can be iterated once.
 */
export class SseClient<Events = Record<string, string>> implements AsyncIterable<EventMessage<Events>> {
	#state: StreamState
	#closed = false
	#controller: AbortController | undefined
	#stop = new AbortController()
	#started = false
	#decode: Decoder

	constructor(
		readonly url: string | URL,
		private readonly options: ConnectOptions & { events?: EventCodec<any> } = {}
	) {
		this.#state = { lastEventId: options.lastEventId }
		this.#decode = decoderFor(options.events, options.validate)
		options.signal?.addEventListener('abort', () => this.close(), { once: true })
		if (options.signal?.aborted) this.close()
	}

	/** The id of the last event read; sent as Last-Event-ID on reconnect. */
	get lastEventId(): string | undefined {
		return this.#state.lastEventId
	}

	/** Whether the reader has stopped for good. */
	get closed(): boolean {
		return this.#closed
	}

	/** Stops reading and closes the request; a `for await` over it ends. */
	close(): void {
		if (this.#closed) return
		this.#closed = true
		this.#stop.abort()
		this.#controller?.abort()
	}

	[Symbol.asyncIterator](): AsyncGenerator<EventMessage<Events>, void, undefined> {
		if (this.#started) throw new SluiceError('SSE_CLIENT_REUSED', 'an SseClient can be iterated once; connect() again for another reader')
		this.#started = true
		return this.#run()
	}

	async *#run(): AsyncGenerator<EventMessage<Events>, void, undefined> {
		const { reconnect = true } = this.options
		let failures = 0
		try {
			while (!this.#closed) {
				let error: unknown
				try {
					const body = await this.#open()
					if (!body) return
					failures = 0
					// close() from the loop body: the events already parsed are not handed out.
					for await (const message of readFrames(body, this.#state, () => this.#closed)) {
						const decoded = this.#decode(message)
						if (decoded !== SKIP) yield decoded as EventMessage<Events>
					}
				} catch (caught) {
					if (caught instanceof SseClientError || this.#closed) throw caught
					error = caught
					failures++
				}
				if (!reconnect || this.#closed) return
				await this.#wait(failures, error)
			}
		} catch (error) {
			if (!this.#closed || error instanceof SseClientError) {
				this.close()
				throw error
			}
		} finally {
			this.close()
		}
	}

	/** Opens one request; the body to read, or undefined when the stream is over for good (204). */
	async #open(): Promise<ReadableStream<Uint8Array> | undefined> {
		const { init = {}, fetch: fetchImpl = globalThis.fetch, headers: extra } = this.options
		const headers = new Headers(init.headers)
		if (extra) new Headers(typeof extra === 'function' ? await extra() : extra).forEach((value, name) => headers.set(name, value))
		if (this.#closed) return undefined
		headers.set('accept', 'text/event-stream')
		let url = this.url
		const id = this.#state.lastEventId
		if (id && this.options.lastEventIdIn === 'query') {
			url = new URL(this.url, (globalThis as { location?: { href: string } }).location?.href)
			url.searchParams.set('lastEventId', id)
		} else if (id) headers.set('last-event-id', id)
		this.#controller = new AbortController()
		// `cache` rather than a Cache-Control header: no header that would need a CORS preflight.
		const response = await fetchImpl(url, { cache: 'no-store', ...init, headers, signal: this.#controller.signal })
		const type = response.headers.get('content-type') ?? ''
		if (response.status === 204) {
			this.close()
			return undefined
		}
		if (response.status < 200 || response.status > 299 || !type.toLowerCase().startsWith('text/event-stream')) {
			response.body?.cancel().catch(() => {})
			const bad = response.status < 200 || response.status > 299
			throw new SseClientError(
				bad ? 'status' : 'content-type',
				bad ? `sse: HTTP ${response.status} from ${this.url}` : `sse: expected text/event-stream from ${this.url}, got "${type}"`,
				response.status
			)
		}
		if (!response.body) throw new SluiceError('SSE_CLIENT_NO_BODY', 'sse: response has no body')
		this.options.onOpen?.(response)
		return response.body
	}

	/** Waits before a reconnect: the server's retry (or ours), doubled per repeated failure, capped, plus jitter. */
	async #wait(failures: number, error: unknown): Promise<void> {
		const { retryMs = 1000, maxRetryMs = 30_000, jitter = 0.2 } = this.options
		const base = this.#state.retry ?? retryMs
		const delay = Math.round(Math.min(Math.max(maxRetryMs, base), base * 2 ** Math.max(0, failures - 1)) * (1 + Math.random() * jitter))
		this.options.onReconnect?.({ attempt: failures, delayMs: delay, error })
		await abortableSleep(delay, this.#stop.signal).catch(() => {})
	}
}

/**
 * Opens a reconnecting, typed SSE reader. Give it the server's event registry
 * to get typed, exactly decoded values; without one, data is the raw text.
 *
 * @example
 * for await (const m of connect('/ticks', { events: feed })) if (m.event === 'tick') m.data.n
 */
export function connect<S extends EventSchemas>(
	url: string | URL,
	options: ConnectOptions & { events: EventCodec<S> }
): SseClient<EventTypes<S>>
export function connect(url: string | URL, options?: ConnectOptions): SseClient<Record<string, string>>
export function connect(url: string | URL, options: ConnectOptions & { events?: EventCodec<any> } = {}) {
	return new SseClient(url, options)
}
