import type { ResponseStream, TimeoutSetter } from './response-stream'
import type { Source } from './pump'

/**
 * What the framework glue gives every streaming helper (sse, ndjson, file):
 * the request, Bun's server, where mid-stream errors go, and who is told of
 * each stream it opens (the connection registry).
 */
export interface StreamContext {
	request: Request
	server?: TimeoutSetter | null
	onError?: (error: unknown) => void
	/** Called with the stream once it exists. */
	onOpen?: (stream: ResponseStream) => void
}

/** True for what pump() can drive: a sync or async iterable (generators included). */
export const isSource = (value: unknown): value is Source<unknown> =>
	value != null && typeof value === 'object' && (Symbol.asyncIterator in value || Symbol.iterator in value)
