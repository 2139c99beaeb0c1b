import { ResponseStream, pump, abortableSleep, isSource, type Source, type StreamContext } from '../stream'
import { encodeNdjson } from './encode'
import { NdjsonBodyError } from './body'
import type { NdjsonErrorLine } from './error-line'
import { idleTimeoutForAbandoned } from '../stream/idle-timeout'
import { compressionFor, withVary, type CompressOption } from '../stream/compression'

/** The handle a callback-style ndjson() producer gets. */
export interface NdjsonHandle<T = unknown> {
	/** Sends one record. Resolves true once the client can take more (await it), false if the stream is closed. */
	send(record: T): Promise<boolean>
	/** Aborted when the client leaves or the stream ends: pass it to your waits. */
	readonly signal: AbortSignal
	/** Waits `ms`, rejecting as soon as the stream ends, so your loop stops at once. */
	sleep(ms: number): Promise<void>
	/** Ends the stream. */
	close(): void
	/** The underlying stream (counters, onClose). */
	readonly stream: ResponseStream
}

/** A callback producer: it sends through the handle, or returns a source to pump. */
export type NdjsonCallback<T> = (handle: NdjsonHandle<T>) => void | Promise<void> | Source<T>

/** Options of ndjson(). */
export interface NdjsonOptions {
	/** Extra response headers. */
	headers?: Record<string, string>
	/** @default 200 */
	status?: number
	/** Characters joined into one write when records come faster than the socket drains. @default 65536 */
	batchChars?: number
	/** Milliseconds of silence before an empty line is sent to keep proxies from timing out; 0: never. @default 0 */
	heartbeatMs?: number
	/** Milliseconds the client may leave written bytes unread before the stream is closed as stalled. 0: never. @default 60000 */
	stallTimeoutMs?: number
	/** Put the error's message in the error line. @default NODE_ENV !== 'production' */
	exposeErrors?: boolean
	/**
	 * Compress the response with the coding the client's Accept-Encoding
	 * prefers (zstd, br or gzip), flushed at every batch so no record waits for
	 * the next. A stream's size is not known up front, so it is compressed
	 * whenever the client accepts it; `false` never compresses (data that is
	 * already compressed, or a tiny stream where CPU matters more than bytes).
	 * @default true
	 */
	compress?: CompressOption
}

/** What the framework glue provides to ndjson(). */
export type NdjsonContext = StreamContext

export const NDJSON_CONTENT_TYPE = 'application/x-ndjson'

/** The error line for `error` after `records` records (see NdjsonErrorLine). */
export function errorLineFor(error: unknown, records: number, expose: boolean): NdjsonErrorLine {
	// A bad request body is the client's own input: always say what was wrong with it.
	if (error instanceof NdjsonBodyError) return { error: error.message, records, status: error.status, line: error.line }
	return { error: expose && error instanceof Error ? error.message : 'Internal Server Error', records }
}

/**
 * Opens an NDJSON response (one JSON text per line) fed by an iterable, a
 * generator, or a callback with a handle. Records that come in a burst are
 * batched into one write; a record that comes after a pause is sent at once.
 * An error from the producer ends the stream with an error line
 * (NdjsonErrorLine) and is reported to `ctx.onError`.
 */
export function ndjsonStream<T>(
	ctx: NdjsonContext,
	source: Source<T> | NdjsonCallback<T>,
	options: NdjsonOptions = {}
): ResponseStream {
	const { status, batchChars = 65_536, heartbeatMs = 0, stallTimeoutMs = 60_000, compress = true } = options
	const expose = options.exposeErrors ?? process.env.NODE_ENV !== 'production'
	const stream = new ResponseStream({
		request: ctx.request,
		server: ctx.server,
		contentType: NDJSON_CONTENT_TYPE,
		heartbeatMs,
		heartbeat: '\n',
		stallTimeoutMs,
		headers: compress === false ? options.headers : withVary(options.headers),
		status,
		compression: compressionFor(ctx.request, compress, true)
	})
	ctx.onOpen?.(stream)

	const fail = (error: unknown) => {
		if (stream.closed) return
		// The request body was given up on: its unread rest must not hold the connection.
		// (Before the close: Bun ignores a timeout set once the response has ended.)
		if (error instanceof NdjsonBodyError && ctx.server) idleTimeoutForAbandoned(ctx.server, ctx.request, 1000)
		stream.write(encodeNdjson(errorLineFor(error, stream.eventsSent, expose)))
		stream.close('error')
		ctx.onError?.(error)
	}
	const run = async () => {
		let produced: unknown = source
		if (typeof source === 'function') produced = await source(makeHandle<T>(stream))
		if (isSource(produced)) await pump(stream, produced as Source<T>, encodeNdjson, { batchChars })
		stream.close('done')
	}
	run().catch(fail)
	return stream
}

function makeHandle<T>(stream: ResponseStream): NdjsonHandle<T> {
	return {
		send: (record) => {
			if (stream.closed) return Promise.resolve(false)
			if (stream.write(encodeNdjson(record), 1)) return Promise.resolve(true)
			return stream.drained().then(() => !stream.closed)
		},
		signal: stream.signal,
		sleep: (ms) => abortableSleep(ms, stream.signal),
		close: () => stream.close('done'),
		stream
	}
}
