// The NDJSON reader of sluice/client: for browsers and Bun (web APIs only).
import { SluiceError } from '../errors'
import { chunksOf, isBlank, LineTooLongError, splitLines } from '../ndjson/lines'
import { isErrorLine } from '../ndjson/error-line'

/**
 * An NDJSON stream that did not end well: the server's error line (`records`
 * says how many records came before it), an HTTP error status, a line that is
 * not JSON, or a line over the limit.
 */
export class NdjsonStreamError extends SluiceError {
	constructor(
		message: string,
		/** Records read before the failure. */
		readonly records: number,
		/** The HTTP status: the response's, or the one the server's error line gives. */
		override readonly status?: number,
		/** The line at fault (of the response, or of the request body for a server's 400/413). */
		readonly line?: number,
		/** What went wrong: NDJSON_STREAM_STATUS, _REMOTE, _LINE_INVALID or _LINE_TOO_LONG. */
		code = 'NDJSON_STREAM_FAILED'
	) {
		super(code, message)
		this.name = 'NdjsonStreamError'
	}
}

/** Options of readNdjsonRecords(). */
export interface ReadNdjsonOptions {
	/** The longest line accepted, in bytes. @default 16777216 (16 MiB) */
	maxLineBytes?: number
}

const isNdjsonResponse = (response: Response) =>
	/^application\/(x-)?ndjson\b/i.test(response.headers.get('content-type') ?? '')

async function httpError(response: Response): Promise<NdjsonStreamError> {
	const text = await response.text().catch(() => '')
	let message = text || response.statusText || `HTTP ${response.status}`
	let line: number | undefined
	try {
		const body = JSON.parse(text)
		if (typeof body?.error === 'string') message = body.error
		if (typeof body?.line === 'number') line = body.line
	} catch {}
	return new NdjsonStreamError(message, 0, response.status, line, 'NDJSON_STREAM_STATUS')
}

/**
 * Yields the records of an NDJSON response (or body stream) as they arrive,
 * typed as `T`. Throws NdjsonStreamError for a non-2xx response, a line that
 * is not JSON, or the server's error line. Breaking out of the loop cancels
 * the body.
 *
 * @example
 * for await (const tick of readNdjsonRecords<Tick>(await fetch('/stream/realtime'))) console.log(tick.count)
 */
export async function* readNdjsonRecords<T = unknown>(
	source: Response | ReadableStream<Uint8Array>,
	{ maxLineBytes = 16 * 1024 * 1024 }: ReadNdjsonOptions = {}
): AsyncGenerator<T, void, undefined> {
	let body: ReadableStream<Uint8Array> | null
	if (source instanceof Response) {
		if (!source.ok) throw await httpError(source)
		body = source.body
	} else body = source
	if (!body) return
	const decoder = new TextDecoder()
	let records = 0
	try {
		for await (const { bytes, line } of splitLines(chunksOf(body), maxLineBytes)) {
			if (isBlank(bytes)) continue // heartbeats
			let value: unknown
			try {
				value = JSON.parse(decoder.decode(bytes))
			} catch {
				throw new NdjsonStreamError(`line ${line} of the response is not JSON`, records, undefined, line, 'NDJSON_STREAM_LINE_INVALID')
			}
			if (isErrorLine(value, records)) throw new NdjsonStreamError(value.error, records, value.status, value.line, 'NDJSON_STREAM_REMOTE')
			records++
			yield value as T
		}
	} catch (error) {
		if (error instanceof LineTooLongError)
			throw new NdjsonStreamError(`line ${error.line} of the response is longer than ${maxLineBytes} bytes`, records, undefined, error.line, 'NDJSON_STREAM_LINE_TOO_LONG')
		throw error
	}
}

/**
 * fetch() and read the NDJSON records of the response as they arrive. Pass
 * `signal` in `init` to stop the request.
 */
export async function* fetchNdjson<T = unknown>(
	input: string | URL | Request,
	init: RequestInit = {},
	options?: ReadNdjsonOptions
): AsyncGenerator<T, void, undefined> {
	const headers = new Headers(init.headers)
	if (!headers.has('accept')) headers.set('accept', 'application/x-ndjson')
	yield* readNdjsonRecords<T>(await fetch(input, { ...init, headers }), options)
}

type Fetcher = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/**
 * Options for Eden's treaty() that make a route returning ndjson() yield its
 * records, typed, as they arrive: `data` is an AsyncGenerator of the records.
 * Spread it into the treaty config (add your own `onResponse` hooks after it).
 *
 * @example
 * const api = treaty<App>(url, edenNdjson())
 * const { data } = await api.stream.realtime.get()
 * for await (const tick of data!) console.log(tick.count)
 */
export function edenNdjson({ fetch: fetcher = globalThis.fetch as Fetcher, ...read }: ReadNdjsonOptions & { fetch?: Fetcher } = {}) {
	return {
		// Eden hands onResponse a clone (a tee: the branch nobody reads would buffer the
		// whole stream). An NDJSON response is its own clone, so nothing is buffered.
		fetcher: (async (input: string | URL | Request, init?: RequestInit) => {
			const response = await fetcher(input, init)
			if (isNdjsonResponse(response)) Object.defineProperty(response, 'clone', { value: () => response })
			return response
		}) as typeof fetch,
		onResponse: (response: Response) =>
			response.ok && isNdjsonResponse(response) ? readNdjsonRecords(response, read) : undefined
	}
}
