import { bodyStream, type BodyStreamCallback, type BodyStreamOptions, type Chunk, type Source } from '../src/stream'
import type { StreamIdentity } from '../src/connections'
import { helpersPlugin, streamContext, type HelperContext } from './stream-context'

/** Options of the stream plugin: defaults for every stream() response. */
export interface StreamPluginOptions extends BodyStreamOptions {}

/** stream() on the handler context. */
export type StreamFunction = (source: Source<Chunk> | BodyStreamCallback, options?: BodyStreamOptions & StreamIdentity) => Response

/**
 * Adds `stream()` to the handler context: a response of text or bytes (CSV
 * exports, logs, text/plain lines) from a generator, an iterable or a callback,
 * on the same stream core as sse() and ndjson(): backpressure, cleanup within
 * milliseconds of a disconnect, and counted (kind `stream`), limited and
 * drained by the app's connection manager, if it has one.
 *
 * @example
 * app.use(streamPlugin()).get('/export.csv', ({ stream }) =>
 *   stream(async function* () { yield 'id,name\n'; for (const row of rows) yield `${row.id},${row.name}\n` },
 *     { contentType: 'text/csv; charset=utf-8' }))
 */
export const streamPlugin = (defaults: StreamPluginOptions = {}) => {
	const stream = streamFor(defaults)
	return helpersPlugin('sluice/stream', defaults, {
		stream: (context) => ((source, options) => stream(context, source, options)) as StreamFunction
	})
}

/** Answers a request's stream() call (used by streamPlugin and streaming()). */
export const streamFor =
	(defaults: StreamPluginOptions) =>
	(context: HelperContext, ...[source, options = {}]: Parameters<StreamFunction>): Response => {
		const { user, expiresAt, ...streamOptions } = options
		const ctx = streamContext(context, context.registry, 'stream', [], { user, expiresAt })
		return ctx.admit() ?? bodyStream(ctx, source, { ...defaults, ...streamOptions }).response
	}
