import type { TSchema } from '@sinclair/typebox'
import {
	ndjsonStream,
	readNdjsonRequest,
	type NdjsonBodyOptions,
	type NdjsonCallback,
	type NdjsonOptions,
	type RecordOf
} from '../src/ndjson'
import type { Source } from '../src/stream'
import type { StreamIdentity } from '../src/connections'
import { helpersPlugin, streamContext, type HelperContext } from './stream-context'

/** Options of the ndjson plugin: defaults for every ndjson() response and ndjsonBody() read. */
export interface NdjsonPluginOptions extends NdjsonOptions {
	/** The longest request-body line ndjsonBody() accepts, in bytes; a longer one is a 413. @default 1048576 */
	maxLineBytes?: number
	/** Milliseconds a body read by ndjsonBody() may send nothing before it is a 408; 0: never. @default 30000 */
	bodyTimeoutMs?: number
	/** The most bytes a body read by ndjsonBody() may hold once decoded (gzip, br, zstd); more is a 413. @default 134217728 */
	maxBodyBytes?: number
}

/**
 * The Response of ndjson(). It is a plain Response; the ReadableStream<T> in
 * its type only (no such methods exist on it) is what makes Eden's treaty type
 * the route's `data` as AsyncGenerator<T>, which `edenNdjson()` from
 * `sluice/client` makes true at run time.
 */
export type NdjsonResponse<T = unknown> = Response & ReadableStream<T>

/** ndjson() on the handler context. */
export type NdjsonFunction = <T>(source: Source<T> | NdjsonCallback<T>, options?: NdjsonOptions & StreamIdentity) => NdjsonResponse<T>

/** ndjsonBody() on the handler context: the request body, record by record, as it arrives. */
export type NdjsonBodyFunction = <S extends TSchema | undefined = undefined>(
	schema?: S,
	options?: Omit<NdjsonBodyOptions<S>, 'schema'>
) => AsyncGenerator<RecordOf<S>, void, undefined>

/**
 * Adds `ndjson()` (JSON lines out, on Bun's native streaming) and `ndjsonBody()`
 * (JSON lines in, read as they arrive) to the handler context.
 *
 * @example
 * app.use(ndjsonPlugin()).post('/double', ({ ndjson, ndjsonBody }) =>
 *   ndjson(async function* () { for await (const n of ndjsonBody(t.Number())) yield n * 2 }))
 */
export const ndjsonPlugin = (defaults: NdjsonPluginOptions = {}) => {
	const make = ndjsonFor(defaults)
	return helpersPlugin('sluice/ndjson', defaults, {
		ndjson: (context) => ((source, options) => make.ndjson(context, source, options)) as NdjsonFunction,
		ndjsonBody: (context) => ((schema, options) => make.ndjsonBody(context, schema, options as never)) as NdjsonBodyFunction
	})
}

/** Answers a request's ndjson() and ndjsonBody() calls (used by ndjsonPlugin and streaming()). */
export function ndjsonFor(defaults: NdjsonPluginOptions) {
	const { maxLineBytes, bodyTimeoutMs, maxBodyBytes, ...streamDefaults } = defaults
	return {
		ndjson: (context: HelperContext, ...[source, options = {}]: Parameters<NdjsonFunction>): Response => {
			const { user, expiresAt, ...ndjsonOptions } = options
			const ctx = streamContext(context, context.registry, 'ndjson', [], { user, expiresAt })
			// A connection limit reached: its 503/429 instead of a stream.
			return ctx.admit() ?? ndjsonStream(ctx, source, { ...streamDefaults, ...ndjsonOptions }).response
		},
		ndjsonBody: ({ request, server }: HelperContext, schema?: unknown, options?: NdjsonBodyOptions) =>
			readNdjsonRequest(request, { maxLineBytes, bodyTimeoutMs, maxBodyBytes, ...options, schema, server } as never)
	}
}
