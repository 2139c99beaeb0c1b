import { joinHeartbeat, leaveHeartbeat, type Beating } from './heartbeat'
import { streamHeaders } from './headers'
import { addCloseListener, notifyClose, type CloseListener, type CloseReason, type StreamTrouble } from './close-listeners'
import { idleTimeoutOff } from './idle-timeout'
import { StreamCompressor, type Compression, type CompressorSink } from './compression'

export type { CloseListener, CloseReason, StreamTrouble }

/** The part of Bun's Server that a stream uses: turning off the idle timeout for one request. */
export interface TimeoutSetter {
	timeout(request: Request, seconds: number): void
}

/** Options of a ResponseStream. */
export interface ResponseStreamOptions {
	/** The request being answered: its signal tells the stream when the client goes away. */
	request?: Request
	/** Bun's server: the stream turns off its idle timeout for this request. */
	server?: TimeoutSetter | null
	/** Content-Type of the response. */
	contentType: string
	/** @default 200 */
	status?: number
	/** Extra response headers. */
	headers?: Record<string, string>
	/** Milliseconds of silence before a heartbeat is written; 0 turns heartbeats off. @default 15000 */
	heartbeatMs?: number
	/** The bytes of a heartbeat. @default ':\n\n' (an SSE comment) */
	heartbeat?: string
	/**
	 * Milliseconds the client may leave written bytes unread before the stream is
	 * closed as stalled (a half-open connection). 0 turns it off. @default 2 * heartbeatMs
	 */
	stallTimeoutMs?: number
	/**
	 * Compress what is written with this coding (negotiated by the caller, who
	 * also sends `Vary: Accept-Encoding`): Content-Encoding is set, and the
	 * compressor is flushed at every batch boundary (see StreamCompressor). Its
	 * queued bytes count as unsent; a client that leaves frees it.
	 */
	compression?: Compression
}

type Chunk = string | Uint8Array
type DirectController = ReadableStreamDirectController

const DEFAULT_HEARTBEAT = ':\n\n'

/**
 * A stream's heartbeat and stall settings, and its compressor if it has one. Streams with the same
 * settings and no compressor share one: thousands stay open. The compressor's state lives here, not
 * on the stream, so that an uncompressed stream keeps 18 fields (JSC sizes an object of 13-18
 * fields at 160 B, of 19-22 at 224).
 */
interface Settings {
	heartbeatMs: number
	heartbeat: string
	stallMs: number
	/** The ticker interval the stream joins; 0: none. */
	tickEvery: number
	/** The stream's own compressor; never in a shared one. */
	codec: StreamCompressor | undefined
	/** Closed, with the compressor's last bytes still to send before the body ends. */
	finishing: boolean
}
// The usual settings (default heartbeat text and stall timeout), by heartbeatMs.
const shared = new Map<number, Settings>()

function settingsOf(heartbeatMs: number, heartbeat: string, stallTimeoutMs: number | undefined): Settings {
	const usual = heartbeat === DEFAULT_HEARTBEAT && stallTimeoutMs === undefined
	const known = usual ? shared.get(heartbeatMs) : undefined
	if (known) return known
	const stallMs = stallTimeoutMs ?? 2 * heartbeatMs
	const tickEvery = heartbeatMs > 0 ? heartbeatMs : Math.max(0, stallMs)
	const settings: Settings = { heartbeatMs, heartbeat, stallMs, tickEvery, codec: undefined, finishing: false }
	if (usual && shared.size < 64) shared.set(heartbeatMs, settings)
	return settings
}

let lastStreamId = 0
/** A new process-unique stream id, shared by everything the connection registry holds. */
export const newStreamId = (): number => ++lastStreamId
const settled = Promise.resolve()
const EARLY_LIMIT = 64 * 1024
// Bytes a producer may hand the compressor ahead of it: one batch is compressed while the next is made.
const COMPRESS_AHEAD = 128 * 1024
const lengthOf = (c: Chunk) => (typeof c === 'string' ? c.length : c.byteLength)

/**
 * The one owner of a streaming Response on Bun.serve. It writes bytes through a
 * direct ReadableStream, pauses producers when the client reads slowly, learns
 * of a disconnect from the request's signal and the stream's cancel, sends
 * heartbeats while idle, and counts what it sent.
 */
export class ResponseStream implements Beating, CompressorSink {
	/** Process-unique id. */
	readonly id = newStreamId()
	/** When the stream opened (ms since epoch). */
	readonly startedAt = Date.now()
	/** The Response to return from the handler. */
	readonly response: Response
	/** Bytes handed to the socket. */
	bytesSent = 0
	/** Events (frames, records) written. */
	eventsSent = 0
	/** The id of the last SSE event sent, if any. */
	lastEventId: string | undefined

	// Thousands of these stay open at once, idle: what is rarely needed is made on first use,
	// and no field holds a closure of its own.
	#ctrl: DirectController | undefined
	#early: Chunk[] | undefined
	#unsent = 0
	#waiters: (() => void)[] | undefined
	#closeReason: CloseReason | undefined
	#closeListeners: CloseListener[] | undefined
	#abort: AbortController | undefined
	#endPull: (() => void) | undefined
	// Every write sets it to -1 and the heartbeat ticker stamps the time: a clock read per
	// write would cost more than a fan-out's whole write to some sockets.
	#lastWriteAt = performance.now()
	#lastProgressAt = this.#lastWriteAt
	#settings: Settings
	// The request's signal, whose abort is how a disconnect is seen. Only the signal: the request
	// (with the headers read at open) is let go, 0.9 KB per idle stream (docs/benchmarks.md).
	#signal: AbortSignal | undefined

	constructor(options: ResponseStreamOptions) {
		const { request, server, heartbeatMs = 15_000, heartbeat = DEFAULT_HEARTBEAT } = options
		let settings = settingsOf(heartbeatMs, heartbeat, options.stallTimeoutMs)
		// A compressed stream has settings of its own, which hold its compressor.
		if (options.compression) settings = { ...settings, codec: new StreamCompressor(options.compression, this) }
		this.#settings = settings
		if (request) {
			// Bun cuts a request that is silent for 10 s; a stream decides its own liveness.
			if (server) idleTimeoutOff(server, request)
			const signal = request.signal
			if (signal.aborted) queueMicrotask(() => this.gone())
			else {
				this.#signal = signal
				// No `{ once: true }`: close() removes the listener, and the option doubles the cost of adding it.
				signal.addEventListener('abort', this)
			}
		}
		if (settings.tickEvery) joinHeartbeat(settings.tickEvery, this)

		// The stream is its body's underlying source itself (type, pull, cancel): one object less per stream.
		const body = new ReadableStream(this as unknown as Bun.UnderlyingSource)
		let headers = options.headers
		if (options.compression) headers = { ...headers, 'content-encoding': options.compression.encoding }
		this.response = new Response(body, {
			status: options.status ?? 200,
			headers: streamHeaders(options.contentType, headers)
		})
	}

	/** Aborted when the stream ends, for any reason; its `reason` is the CloseReason. */
	get signal(): AbortSignal {
		if (!this.#abort) {
			this.#abort = new AbortController()
			if (this.#closeReason !== undefined) this.#abort.abort(this.#closeReason)
		}
		return this.#abort.signal
	}

	/** @internal the request's abort event: the client went away. */
	handleEvent(): void {
		this.gone()
	}

	/** @internal the client went away: nothing more is sent, a compressor that was finishing included. */
	gone(): void {
		this.close('client')
		const settings = this.#settings
		if (settings.finishing) {
			settings.finishing = false
			settings.codec!.destroy()
			this.#endBody()
		}
	}

	/** True once the stream has ended. */
	get closed(): boolean {
		return this.#closeReason !== undefined
	}

	/** Why the stream ended, once it has. */
	get closeReason(): CloseReason | undefined {
		return this.#closeReason
	}

	/** Bytes written that the client has not taken yet (an estimate: the client's socket buffer is not counted). */
	get unsentBytes(): number {
		const codec = this.#settings.codec
		return this.#unsent + (codec ? codec.pending : 0)
	}

	/** True while the client is behind: a producer should await drained() before writing more. */
	get backpressured(): boolean {
		return this.unsentBytes > 0
	}

	/**
	 * Writes bytes (a string is sent as UTF-8). Returns false when the client is
	 * behind or the stream is closed; the bytes are still queued unless closed.
	 */
	write(chunk: Chunk, events = 0): boolean {
		if (this.#closeReason !== undefined) return false
		this.eventsSent += events
		this.#lastWriteAt = -1
		const codec = this.#settings.codec
		if (codec) {
			codec.write(chunk)
			return this.#unsent === 0 && codec.pending < COMPRESS_AHEAD
		}
		return this.#raw(chunk)
	}

	#raw(chunk: Chunk): boolean {
		if (this.#ctrl) return this.#send(this.#ctrl, chunk)
		// Before Bun pulls, hold a little; past that, ask the producer to wait for the pull.
		;(this.#early ??= []).push(chunk)
		this.#unsent += lengthOf(chunk)
		return this.#unsent < EARLY_LIMIT
	}

	/** Resolves when the client has caught up, or the stream has closed. */
	drained(): Promise<void> {
		if (this.unsentBytes === 0 || this.#closeReason !== undefined) return settled
		return new Promise((resolve) => (this.#waiters ??= []).push(resolve))
	}

	/** Runs `listener` once when the stream ends (at once if it already has). Returns a remover. */
	onClose(listener: CloseListener): () => void {
		if (this.#closeReason !== undefined) {
			notifyClose([listener], this.#closeReason)
			return () => {}
		}
		return addCloseListener((this.#closeListeners ??= []), listener)
	}

	/**
	 * Tells the stream's listeners that hear trouble (the connection registry) of
	 * trouble that did not end it, e.g. frames dropped for a slow client.
	 */
	report(trouble: StreamTrouble, count = 1): void {
		for (const listener of this.#closeListeners ?? [])
			if (typeof listener === 'object') listener.streamTrouble?.(trouble, count)
	}

	/** Ends the response (what was written is still sent) and runs the close listeners once. */
	close(reason: CloseReason = 'done'): void {
		if (this.#closeReason !== undefined) return
		this.#closeReason = reason
		if (this.#settings.tickEvery) leaveHeartbeat(this.#settings.tickEvery)
		// An aborted signal is done with its listeners: most streams end that way, and removing costs.
		const signal = this.#signal
		if (signal && !signal.aborted) signal.removeEventListener('abort', this)
		// A compressed body ends with the compressor's last bytes, unless nobody is there to read them.
		const settings = this.#settings
		if (settings.codec && reason !== 'client') {
			settings.finishing = true
			settings.codec.end()
		} else {
			settings.codec?.destroy()
			// A client that went away has no body left to end: the pull's end is all Bun needs (as at a pull).
			this.#endBody(reason !== 'client')
		}
		this.#abort?.abort(reason)
		this.#unsent = 0
		this.#wakeWaiters()
		const listeners = this.#closeListeners
		this.#closeListeners = undefined
		notifyClose(listeners, reason)
	}

	#endBody(closeBody = true): void {
		if (closeBody && this.#ctrl) {
			try {
				this.#ctrl.close()
			} catch {}
		}
		this.#endPull?.()
	}

	/** @internal compressed bytes to send */
	compressed(bytes: Uint8Array): void {
		if (this.#closeReason === undefined || this.#settings.finishing) this.#raw(bytes)
	}

	/** @internal everything written has been compressed */
	compressorIdle(): void {
		if (this.#unsent === 0) this.#wakeWaiters()
	}

	/** @internal the compressor's last bytes were sent */
	compressorEnded(): void {
		const settings = this.#settings
		if (!settings.finishing) return
		settings.finishing = false
		this.#endBody()
	}

	/** @internal */
	compressorFailed(): void {
		// Nothing more can be compressed: the body ends with what was sent.
		this.close('error')
		this.#settings.finishing = false
		this.#endBody()
	}

	/** @internal heartbeat ticker */
	beat(now: number): void {
		if (this.#closeReason !== undefined) return
		if (this.#lastWriteAt < 0) this.#lastWriteAt = now
		const { heartbeatMs, stallMs } = this.#settings
		if (this.#unsent > 0) {
			if (stallMs > 0 && this.#ctrl && now - this.#lastProgressAt > stallMs) this.close('stalled')
			return
		}
		if (heartbeatMs > 0 && now - this.#lastWriteAt >= heartbeatMs) this.write(this.#settings.heartbeat)
	}

	/** @internal The body's underlying source is a direct one. */
	get type(): 'direct' {
		return 'direct'
	}

	/** @internal The body's source: Bun cancels the body, the client went away. */
	cancel(): void {
		this.gone()
	}

	/**
	 * @internal The body's source: Bun pulls the body, the socket is ready for writes. (No `start`
	 * method: a ReadableStream calls its source's at once.)
	 */
	pull(ctrl: DirectController): Promise<void> | void {
		this.#ctrl = ctrl
		const early = this.#early
		this.#early = undefined
		this.#unsent = 0
		for (const chunk of early ?? []) this.#send(ctrl, chunk)
		// What was written before the pull (the opening frame) goes out now, as a direct stream's own.
		if (early && this.#closeReason === undefined) {
			try {
				ctrl.flush()
			} catch {
				this.gone()
			}
		}
		if (this.#closeReason !== undefined) {
			if (this.#settings.finishing) return new Promise((resolve) => (this.#endPull = resolve))
			if (this.#closeReason !== 'client') ctrl.close()
			return
		}
		if (this.unsentBytes === 0) this.#wakeWaiters()
		return new Promise((resolve) => (this.#endPull = resolve))
	}

	#send(ctrl: DirectController, chunk: Chunk): boolean {
		let written: number | Promise<number>
		try {
			written = ctrl.write(chunk)
		} catch {
			this.gone()
			return false
		}
		if (typeof written === 'number') {
			// Bun answers 0 once the client has gone away.
			if (written === 0 && lengthOf(chunk) > 0) {
				this.gone()
				return false
			}
			this.bytesSent += written
			return this.#unsent === 0
		}
		const pending = lengthOf(chunk)
		if (this.#unsent === 0) this.#lastProgressAt = performance.now()
		this.#unsent += pending
		written.then(
			(n) => {
				this.bytesSent += n
				this.#progress(pending)
			},
			() => this.gone()
		)
		return false
	}

	#progress(bytes: number): void {
		if (this.#closeReason !== undefined) return
		this.#lastProgressAt = performance.now()
		this.#unsent = Math.max(0, this.#unsent - bytes)
		if (this.unsentBytes === 0) this.#wakeWaiters()
	}

	#wakeWaiters(): void {
		const waiters = this.#waiters
		if (!waiters) return
		this.#waiters = undefined
		for (const wake of waiters) wake()
	}
}
