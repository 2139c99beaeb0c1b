import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck, type ValueError } from '@sinclair/typebox/compiler'
import { SluiceError } from '../errors'
import { chunksOf, isBlank, LineTooLongError, splitLines } from './lines'
import { BODY_TIMEOUT_MS, BodyTimeoutError } from '../stream/request-body'
import { idleTimeoutAfter, idleTimeoutForAbandoned } from '../stream/idle-timeout'
import { BodyEncodingError, BodyTooLargeError, bodyEncodingOf, decodeChunks } from '../stream/decompress'
import type { TimeoutSetter } from '../stream'

/** Options of readNdjson(). */
export interface NdjsonBodyOptions<S extends TSchema | undefined = undefined> {
	/** Each record is checked against it; a record that fails is a 400 naming its line. */
	schema?: S
	/** The longest line accepted, in bytes; a longer one is a 413. @default 1048576 (1 MiB) */
	maxLineBytes?: number
	/**
	 * Milliseconds the body may send nothing while it is read before it is a 408
	 * (a slow body that keeps sending is fine); 0: wait forever. @default 30000
	 */
	bodyTimeoutMs?: number
	/**
	 * The most bytes the body may hold once decoded (after Content-Encoding);
	 * past it, a 413. A compressed body is decoded as it is read, so a small
	 * upload that expands to gigabytes (a decompression bomb) stops here, with
	 * memory bounded. @default 134217728 (128 MiB, Bun's own maxRequestBodySize)
	 */
	maxBodyBytes?: number
	/**
	 * The body's Content-Encoding (gzip, x-gzip, br, zstd or identity);
	 * readNdjsonRequest() takes it from the request. Another is a 415.
	 */
	contentEncoding?: string | null
}

/** Options of readNdjsonRequest(): readNdjson's, and Bun's server. */
export interface NdjsonRequestOptions<S extends TSchema | undefined = undefined> extends NdjsonBodyOptions<S> {
	/**
	 * Bun's server (the plugin passes it): the request's idle timeout is moved past
	 * `bodyTimeoutMs`, so a silent body gets its 408 rather than a dropped
	 * connection, and a body given up on does not hold its connection.
	 */
	server?: TimeoutSetter | null
}

const bodyCodes: Record<number, string> = {
	400: 'NDJSON_BODY_INVALID',
	408: 'NDJSON_BODY_TIMEOUT',
	413: 'NDJSON_LINE_TOO_LONG',
	415: 'NDJSON_BODY_UNAVAILABLE'
}

/**
 * A request body that is not valid NDJSON. `status` is 400 (not JSON, not
 * UTF-8, not valid against the schema, or compressed bytes that do not
 * decode), 408 (the body sent nothing for `bodyTimeoutMs`), 413 (a line, or
 * the decoded body, over its limit) or 415 (the body was already read, is not
 * there to read, or has a Content-Encoding other than gzip, br, zstd). Thrown from a handler, it becomes that
 * response: `{"error":"line 3: ...","line":3}`, with `Connection: close`.
 */
export class NdjsonBodyError extends SluiceError {
	constructor(
		override readonly status: 400 | 408 | 413 | 415,
		message: string,
		/** The 1-based line number, when one line is at fault. */
		readonly line?: number
	) {
		super(bodyCodes[status] ?? 'NDJSON_BODY_INVALID', message)
		this.name = 'NdjsonBodyError'
	}

	/**
	 * Elysia answers a thrown error with this. The rest of the body is never
	 * read, so the connection is closed after the answer rather than left
	 * waiting for it.
	 */
	toResponse(): Response {
		return Response.json({ error: this.message, line: this.line }, { status: this.status, headers: { connection: 'close' } })
	}
}

export type RecordOf<S extends TSchema | undefined> = S extends TSchema ? Static<S> : unknown

const checkers = new WeakMap<TSchema, TypeCheck<TSchema>>()
const checkerFor = (schema: TSchema) => {
	let check = checkers.get(schema)
	if (!check) checkers.set(schema, (check = TypeCompiler.Compile(schema)))
	return check
}

/** `/path: what was expected`; a union names what each of its members expected. */
function describeFailure(error: ValueError | undefined): string {
	if (!error) return 'does not match the schema'
	const where = error.path ? `${error.path}: ` : ''
	const members = error.errors.map((it) => it.First()?.message).filter(Boolean)
	return where + (members.length ? [...new Set(members)].join(' or ') : error.message)
}

/**
 * Reads an NDJSON body as it arrives: one parsed (and, with a schema, checked)
 * record per line, blank lines skipped, CRLF accepted. Memory holds at most one
 * line and one chunk; the body is never read whole. Throws NdjsonBodyError at the
 * first bad line, or when the body sends nothing for `bodyTimeoutMs` (408), and
 * stops reading the body there.
 */
export async function* readNdjson<S extends TSchema | undefined = undefined>(
	body: ReadableStream<Uint8Array> | null,
	{
		schema,
		maxLineBytes = 1024 * 1024,
		bodyTimeoutMs = BODY_TIMEOUT_MS,
		maxBodyBytes = 128 * 1024 * 1024,
		contentEncoding = null
	}: NdjsonBodyOptions<S> = {}
): AsyncGenerator<RecordOf<S>, void, undefined> {
	if (!body) return
	if (body.locked)
		throw new NdjsonBodyError(
			415,
			'the request body was already read (a body parser ran, or ndjsonBody() was called twice); send NDJSON as Content-Type: application/x-ndjson'
		)
	const check = schema && checkerFor(schema)
	const decoder = new TextDecoder('utf-8', { fatal: true })
	try {
		const encoding = bodyEncodingOf(contentEncoding)
		const chunks = decodeChunks(chunksOf(body, bodyTimeoutMs), encoding, maxBodyBytes)
		for await (const { bytes, line } of splitLines(chunks, maxLineBytes)) {
			if (isBlank(bytes)) continue
			let value: unknown
			try {
				value = JSON.parse(decoder.decode(bytes))
			} catch (error) {
				const why = error instanceof SyntaxError ? error.message : 'not UTF-8'
				throw new NdjsonBodyError(400, `line ${line}: not valid JSON (${why})`, line)
			}
			if (check && !check.Check(value)) {
				throw new NdjsonBodyError(400, `line ${line}: ${describeFailure(check.Errors(value).First())}`, line)
			}
			yield value as RecordOf<S>
		}
	} catch (error) {
		if (error instanceof LineTooLongError) throw new NdjsonBodyError(413, error.message, error.line)
		if (error instanceof BodyTimeoutError) throw new NdjsonBodyError(408, error.message)
		if (error instanceof BodyTooLargeError) throw new NdjsonBodyError(413, error.message)
		if (error instanceof BodyEncodingError) throw new NdjsonBodyError(error.status, error.message)
		throw error
	}
}

/** The content types an NDJSON request body may carry. */
export const ndjsonContentTypes: ReadonlySet<string> = new Set([
	'application/x-ndjson',
	'application/ndjson',
	'application/jsonl',
	'application/x-jsonlines'
])

/**
 * readNdjson over a request's body, once its Content-Type says NDJSON (or it
 * says nothing): any other type is a 415 that names the expected one, so a JSON
 * or form body is never misread as lines. With `server`, Bun's idle timeout
 * for the request gives way to `bodyTimeoutMs` (see NdjsonRequestOptions).
 */
export async function* readNdjsonRequest<S extends TSchema | undefined = undefined>(
	request: Request,
	{ server, ...options }: NdjsonRequestOptions<S> = {}
): AsyncGenerator<RecordOf<S>, void, undefined> {
	const type = request.headers.get('content-type')?.split(';')[0]!.trim().toLowerCase()
	const timeoutMs = options.bodyTimeoutMs ?? BODY_TIMEOUT_MS
	try {
		if (type && !ndjsonContentTypes.has(type))
			throw new NdjsonBodyError(415, `expected an NDJSON body (Content-Type: application/x-ndjson), got ${type}`)
		if (server) idleTimeoutAfter(server, request, timeoutMs)
		yield* readNdjson(request.body, { ...options, contentEncoding: request.headers.get('content-encoding') })
	} catch (error) {
		if (server && error instanceof NdjsonBodyError) idleTimeoutForAbandoned(server, request, timeoutMs)
		throw error
	}
}
