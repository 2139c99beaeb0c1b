import { compressionFor, withVary, type CompressOption } from '../stream/compression'
import { ResponseStream, pump, abortableSleep, isSource, type Source, type StreamContext } from '../stream'
import { SluiceError } from '../errors'
import { idleTimeoutForAbandoned } from '../stream/idle-timeout'
import { encodeSse, encodeComment } from './encode'
import type { SseEvent } from './event'
import { lastEventIdOf } from './last-event-id'

/** What an SSE source yields: an event, or a bare value sent as its data. */
export type SseItem = SseEvent | string | number | boolean | null | readonly unknown[]

/** Per-send options of SseHandle.send. */
export interface SendOptions {
	/** Event id; the client sends it back as Last-Event-ID when it reconnects. */
	id?: string | number
	/** Reconnection delay hint, in milliseconds (sent as the frame's `retry:` field). */
	retryMs?: number
}

/** The handle a callback-style sse() producer gets. */
export interface SseHandle<Events extends Record<string, unknown> = Record<string, unknown>> {
	/**
	 * Sends one event. Resolves true once the client can take more (await it to
	 * respect backpressure), false if the stream is closed.
	 */
	send<K extends keyof Events & string>(event: K, data: Events[K], options?: SendOptions): Promise<boolean>
	/** Sends a comment line (ignored by clients; keeps proxies from timing out). */
	comment(text?: string): Promise<boolean>
	/** Aborted when the client leaves or the stream ends: pass it to your waits. */
	readonly signal: AbortSignal
	/** The client's Last-Event-ID (header or `lastEventId` query parameter), if valid. */
	readonly lastEventId: string | undefined
	/** Waits `ms`, rejecting as soon as the stream ends, so your loop stops at once. */
	sleep(ms: number): Promise<void>
	/** Ends the stream. */
	close(): void
	/** The underlying stream (counters, onClose). */
	readonly stream: ResponseStream
}

/** A callback producer: it may send through the handle, or return a source to pump. */
export type SseCallback<Events extends Record<string, unknown>, Item = SseItem> = (
	handle: SseHandle<Events>
) => void | Promise<void> | Source<Item>

/** Options of sse(). */
export interface SseOptions {
	/** Reconnection delay hint sent first (a `retry:` frame), in milliseconds. */
	retryMs?: number
	/** Milliseconds of silence before a heartbeat comment. 0 turns them off. @default 15000 */
	heartbeatMs?: number
	/** Extra response headers. */
	headers?: Record<string, string>
	/** @default 200 */
	status?: number
	/** Send the error's message in the `event: error` frame. @default NODE_ENV !== 'production' */
	exposeErrors?: boolean
	/**
	 * A typed event registry (`events({...})`): every event sent is checked
	 * against it (an unknown name or bad data ends the stream with an error
	 * frame, nothing of it sent) and its data encoded as the registry says.
	 */
	events?: EventWire
	/**
	 * Compress the stream with the coding the client's Accept-Encoding prefers,
	 * flushed after every burst of events (one event sent alone is flushed at
	 * once). Off by default: some proxies and clients hold a compressed event
	 * stream back until a buffer fills (see docs/sse.md). @default false
	 */
	compress?: CompressOption
}

/** What sse() needs of an event registry: check data and give its `data:` text. */
export interface EventWire {
	wire(event: string, data: unknown): string | undefined
}

/** What the framework glue provides to sse(). */
export type SseContext = StreamContext

const toEvent = (item: SseItem): SseEvent =>
	item !== null && typeof item === 'object' && !Array.isArray(item)
		? (item as SseEvent)
		: { data: item }

/** Encodes one yielded item, remembering its id for the connection registry. */
const encoderFor = (stream: ResponseStream, events?: EventWire) =>
	events
		? (item: SseItem) => {
				let event = toEvent(item)
				// A frame with only a comment or retry carries no event: nothing to check.
				if (event.event !== undefined || event.data !== undefined)
					event = { ...event, data: events.wire(event.event || 'message', event.data) }
				return encodeRemembering(stream, event)
			}
		: (item: SseItem) => encodeRemembering(stream, toEvent(item))

function encodeRemembering(stream: ResponseStream, event: SseEvent): string {
	const text = encodeSse(event)
	if (event.id !== undefined) stream.lastEventId = String(event.id)
	return text
}

/**
 * Opens an SSE response fed by an iterable, a generator, or a callback with a
 * handle. An error from the producer is sent as an `event: error` frame,
 * reported to `ctx.onError`, and ends the stream.
 */
export function sseStream<Events extends Record<string, unknown>>(
	ctx: SseContext,
	source: Source<SseItem> | SseCallback<Events>,
	options: SseOptions = {}
): ResponseStream {
	const { retryMs, heartbeatMs, headers, status } = options
	const expose = options.exposeErrors ?? process.env.NODE_ENV !== 'production'
	const stream = new ResponseStream({
		request: ctx.request,
		server: ctx.server,
		contentType: 'text/event-stream; charset=utf-8',
		heartbeatMs,
		headers: options.compress ? withVary(headers) : headers,
		status,
		compression: compressionFor(ctx.request, options.compress, false)
	})
	ctx.onOpen?.(stream)
	// Open with a frame at once, so the client sees the 200 before the first event.
	stream.write(retryMs === undefined ? encodeComment() : encodeSse({ retry: retryMs }))
	const encode = encoderFor(stream, options.events)

	const fail = (error: unknown) => {
		if (stream.closed) return
		// The client's own mistake (a bad request body: a 4xx): it is told what was wrong, always,
		// and the rest of its body is not waited for.
		const status = error instanceof SluiceError && error.status! < 500 ? error.status : undefined
		const message = (status || expose) && error instanceof Error ? error.message : 'Internal Server Error'
		stream.write(encodeSse({ event: 'error', data: status ? { message, status } : { message } }), 1)
		if (status && ctx.server) idleTimeoutForAbandoned(ctx.server, ctx.request, 1000)
		stream.close('error')
		ctx.onError?.(error)
	}
	const run = async () => {
		let produced: unknown = source
		if (typeof source === 'function') {
			const handle = makeHandle<Events>(stream, ctx.request, encode)
			produced = await source(handle)
		}
		if (isSource(produced)) await pump(stream, produced as Source<SseItem>, encode)
		stream.close('done')
	}
	run().catch(fail)
	return stream
}

function makeHandle<Events extends Record<string, unknown>>(
	stream: ResponseStream,
	request: Request,
	encode: (item: SseItem) => string
): SseHandle<Events> {
	const after = (ok: boolean) => (ok ? Promise.resolve(true) : stream.drained().then(() => !stream.closed))
	return {
		send: (event, data, options) =>
			stream.closed
				? Promise.resolve(false)
				: after(stream.write(encode({ event, data, id: options?.id, retry: options?.retryMs }), 1)),
		comment: (text) => (stream.closed ? Promise.resolve(false) : after(stream.write(encodeComment(text)))),
		signal: stream.signal,
		lastEventId: lastEventIdOf(request),
		sleep: (ms) => abortableSleep(ms, stream.signal),
		close: () => stream.close('done'),
		stream
	}
}
