import { ResponseStream } from './response-stream'
import { pump, type Source } from './pump'
import { abortableSleep } from './sleep'
import { isSource, type StreamContext } from './context'

/** What stream() sends: text (as UTF-8) or bytes. */
export type Chunk = string | Uint8Array

/** The handle a callback-style stream() producer gets. */
export interface BodyStreamHandle {
	/** Writes text or bytes. Resolves true once the client can take more (await it), false if the stream is closed. */
	write(chunk: Chunk): Promise<boolean>
	/** Aborted when the client leaves or the stream ends: pass it to your waits. */
	readonly signal: AbortSignal
	/** Waits `ms`, rejecting as soon as the stream ends, so your loop stops at once. */
	sleep(ms: number): Promise<void>
	/** Ends the stream. */
	close(): void
	/** The underlying stream (counters, onClose). */
	readonly stream: ResponseStream
}

/** A callback producer: it writes through the handle, or returns a source to pump. */
export type BodyStreamCallback = (handle: BodyStreamHandle) => void | Promise<void> | Source<Chunk>

/** Options of stream(). */
export interface BodyStreamOptions {
	/** Content-Type of the response. @default 'text/plain; charset=utf-8' */
	contentType?: string
	/** Extra response headers (e.g. Content-Disposition for a CSV export). */
	headers?: Record<string, string>
	/** @default 200 */
	status?: number
	/** Characters of text joined into one write when chunks come faster than the socket drains. @default 65536 */
	batchChars?: number
	/** Milliseconds of silence before `heartbeat` is written; 0: never (no bytes are harmless in every format). @default 0 */
	heartbeatMs?: number
	/** What a heartbeat writes, e.g. '\n' for lines whose reader skips blank ones. @default '\n' */
	heartbeat?: string
	/** Milliseconds the client may leave written bytes unread before the stream is closed as stalled. 0: never. @default 60000 */
	stallTimeoutMs?: number
}

export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8'
const asIs = (chunk: Chunk) => chunk

/**
 * Opens a response of plain text or bytes (a CSV export, a log, lines of
 * text) fed by an iterable, a generator, or a callback with a handle, with the
 * stream core's backpressure, disconnect cleanup and counters. Text that comes
 * in a burst is joined into one write. There is no framing, so an error from
 * the producer can only cut the stream short: it ends with the reason `error`
 * and goes to `ctx.onError`.
 */
export function bodyStream(
	ctx: StreamContext,
	source: Source<Chunk> | BodyStreamCallback,
	options: BodyStreamOptions = {}
): ResponseStream {
	const { contentType = TEXT_CONTENT_TYPE, batchChars, heartbeatMs = 0, heartbeat = '\n', stallTimeoutMs = 60_000 } = options
	const stream = new ResponseStream({
		request: ctx.request,
		server: ctx.server,
		contentType,
		heartbeatMs,
		heartbeat,
		stallTimeoutMs,
		headers: options.headers,
		status: options.status
	})
	ctx.onOpen?.(stream)
	const run = async () => {
		let produced: unknown = source
		if (typeof source === 'function') produced = await source(handleOf(stream))
		if (isSource(produced)) await pump(stream, produced as Source<Chunk>, asIs, { batchChars })
		stream.close('done')
	}
	run().catch((error) => {
		if (stream.closed) return
		stream.close('error')
		ctx.onError?.(error)
	})
	return stream
}

function handleOf(stream: ResponseStream): BodyStreamHandle {
	return {
		write: (chunk) => {
			if (stream.closed) return Promise.resolve(false)
			if (stream.write(chunk, 1)) return Promise.resolve(true)
			return stream.drained().then(() => !stream.closed)
		},
		signal: stream.signal,
		sleep: (ms) => abortableSleep(ms, stream.signal),
		close: () => stream.close('done'),
		stream
	}
}
