import { sseStream, type SseCallback, type SseItem, type SseOptions } from '../src/sse'
import type { Source } from '../src/stream'
import type { ControlItem, EventItem, EventMessage, EventRegistry, EventSchemas, EventTypes } from '../src/events'
import type { StreamIdentity } from '../src/connections'
import { helpersPlugin, streamContext, type HelperContext } from './stream-context'

/** Options of the sse plugin: defaults for every sse() response. */
export interface SsePluginOptions extends SseOptions {}

/**
 * A Response that carries, in its type only, the events a route sends. Its
 * type also says AsyncGenerator of the event union: that is what Eden treaty
 * reads to type `data` of a call to this route (read it with `edenSse()` from
 * `sluice/client` to get those values right). On the server it is a plain
 * Response: return it, don't iterate it.
 */
export type SseResponse<Events extends Record<string, unknown> = Record<string, unknown>> = Response &
	AsyncGenerator<EventMessage<Events>, void, unknown>

/** sse() on the handler context. */
export interface SseFunction {
	/**
	 * A stream checked against a typed event registry: sends and yields are
	 * typed by it and checked at run time (unknown names and bad data refused).
	 */
	<S extends EventSchemas>(
		source:
			| Source<EventItem<EventTypes<S>> | ControlItem>
			| SseCallback<EventTypes<S>, EventItem<EventTypes<S>> | ControlItem>,
		options: SseOptions & StreamIdentity & { events: EventRegistry<S> }
	): SseResponse<EventTypes<S>>
	/** A stream of any events (type them with the type parameter). */
	<Events extends Record<string, unknown> = Record<string, unknown>>(
		source: Source<SseItem> | SseCallback<Events>,
		options?: SseOptions & StreamIdentity & { events?: undefined }
	): SseResponse<Events>
}

/**
 * Adds `sse()` to the handler context: Server-Sent Events from a generator, an
 * iterable or a callback, on Bun's native streaming. Its streams are counted,
 * limited and drained by the app's connection manager, if it has one.
 *
 * @example
 * app.use(ssePlugin()).get('/events', ({ sse }) => sse(async function* (s) {
 *   for (let n = 0; ; n++) { yield { id: n, data: { n } }; await s.sleep(1000) }
 * }))
 */
export const ssePlugin = (defaults: SsePluginOptions = {}) => {
	const sse = sseFor(defaults)
	return helpersPlugin('sluice/sse', defaults, {
		sse: (context) => ((source: SseSource, options?: SseOptions & StreamIdentity) => sse(context, source, options)) as SseFunction
	})
}

/** What sse() takes as its source. */
export type SseSource = Source<SseItem> | SseCallback<Record<string, unknown>>

/**
 * Answers a request's sse() call (used by ssePlugin and streaming()). A request's
 * helper is one arrow calling it: the helpers of a request share one scope.
 */
export const sseFor =
	(defaults: SsePluginOptions) =>
	(context: HelperContext, source: SseSource, options: SseOptions & StreamIdentity = {}): Response => {
		const { user, expiresAt, ...sseOptions } = options
		const ctx = streamContext(context, context.registry, 'sse', [], { user, expiresAt })
		return ctx.admit() ?? sseStream(ctx, source, { ...defaults, ...sseOptions }).response
	}
