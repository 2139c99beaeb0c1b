import { Elysia } from 'elysia'
import { ConnectionRegistry, clusterConnectionCounts, shareConnectionCounts } from '../src/connections'
import { memory, type Transport } from '../src/hub'
import { sseFor, type SsePluginOptions } from './sse'
import { ndjsonFor, type NdjsonPluginOptions } from './ndjson'
import { fileFor, type FilePluginOptions } from './file'
import { eventsPlugin, type EventsPluginOptions } from './events'
import { connectionsPlugin, type ConnectionsOptions } from './connections'
import { broadcastFor, hubPlugin, type BroadcastOptions } from './broadcast'
import type { PublishEvents } from '../src/hub'
import { helpersDerive } from './stream-context'

/** Options of streaming(): the options of each bundled plugin. */
export interface StreamingOptions<Events extends PublishEvents = PublishEvents> {
	/** Defaults for every sse() response. */
	sse?: SsePluginOptions
	/** Defaults for every ndjson() response and ndjsonBody() read. */
	ndjson?: NdjsonPluginOptions
	/** Defaults for every file() call (e.g. `{ root: './public' }`). */
	file?: FilePluginOptions
	/** Options of the typed events plugin (the `sseEvents` route option). */
	events?: EventsPluginOptions
	/** The connection manager: limits, drain on stop, guarded routes. */
	connections?: ConnectionsOptions
	/** Where broadcast frames, history and counts go. @default memory() (this process) */
	transport?: Transport
	/** Options of broadcast (registry, slow-consumer limit and policy, subscription SSE defaults). */
	broadcast?: Omit<BroadcastOptions<Events>, 'transport'>
}

/**
 * Every Sluice plugin in one: `sse()`, `ndjson()` / `ndjsonBody()`, `file()`,
 * `broadcast` / `subscribe()`, the connection manager (`connections`) and the
 * typed events route option, sharing one connection registry and transport.
 *
 * One instance per app: it learns the app's server (and error hooks) when the
 * app starts, and holds one connection registry and hub.
 *
 * @example
 * new Elysia().use(streaming()).get('/events', ({ sse }) => sse([{ data: 'hello' }]))
 */
export const streaming = <Events extends PublishEvents = PublishEvents>(options: StreamingOptions<Events> = {}) => {
	const registry = new ConnectionRegistry(options.connections)
	// The connection counts travel with the hub's, so a multi-process transport sums them too.
	const transport = shareConnectionCounts(options.transport ?? memory(), registry)
	const sse = sseFor(options.sse ?? {}, registry)
	const ndjson = ndjsonFor(options.ndjson ?? {}, registry)
	const file = fileFor(options.file ?? {}, registry)
	const broadcast = broadcastFor({ ...options.broadcast, transport }, registry)
	// One derive for every helper: each global derive is paid by every request of the app.
	const helpers = helpersDerive((context) => ({
		sse: sse(context),
		ndjson: ndjson.ndjson(context),
		ndjsonBody: ndjson.ndjsonBody(context),
		file: file(context),
		subscribe: broadcast.subscribe(context)
	}))
	return new Elysia({ name: 'sluice', seed: options })
		.use(connectionsPlugin(options.connections, registry))
		/** Connection counts summed over every process of the transport (this one's alone with memory). */
		.decorate('clusterConnections', () => clusterConnectionCounts(transport))
		.use(hubPlugin(broadcast.hub, options.broadcast))
		.use(eventsPlugin(options.events))
		.onStart(helpers.onStart)
		.derive({ as: 'global' }, helpers.derive)
}

export { SluiceError, OptionError } from '../src/errors'
export { ssePlugin, type SsePluginOptions, type SseResponse, type SseFunction } from './sse'
export * from '../src/sse'
export {
	ndjsonPlugin,
	type NdjsonPluginOptions,
	type NdjsonResponse,
	type NdjsonFunction,
	type NdjsonBodyFunction
} from './ndjson'
export * from '../src/ndjson'
export {
	ResponseStream,
	pump,
	abortableSleep,
	streamingHeaders,
	type CloseReason,
	type CloseListener,
	type ResponseStreamOptions,
	type Source
} from '../src/stream'
export * from '../src/connections'
export {
	connectionsPlugin,
	stopOnSignals,
	type ConnectionsOptions,
	type ConnectionsRoutes,
	type ConnectionsGuard
} from './connections'
export { eventsPlugin, type EventsPluginOptions } from './events'
export * from '../src/events'
export { filePlugin, type FilePluginOptions, type FileFunction } from './file'
export * from '../src/file'
export { broadcastPlugin, type BroadcastOptions, type SubscribeFunction } from './broadcast'
export * from '../src/hub'
export { redis, RedisTransport, RedisUnavailableError, type RedisTransportOptions } from '../src/hub/redis'
