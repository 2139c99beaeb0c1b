import { Elysia } from 'elysia'
import type { Transport } from '../src/hub'
import { sseFor, type SseFunction, type SsePluginOptions, type SseSource } from './sse'
import { ndjsonFor, type NdjsonBodyFunction, type NdjsonFunction, type NdjsonPluginOptions } from './ndjson'
import { fileFor, type FileFunction, type FilePluginOptions } from './file'
import { eventsPlugin, type EventsPluginOptions } from './events'
import { connectionsPlugin, type ConnectionsOptions } from './connections'
import { broadcastFor, hubPlugin, type BroadcastOptions, type SubscribeFunction } from './broadcast'
import type { PublishEvents } from '../src/hub'
import type { SseOptions } from '../src/sse'
import type { StreamIdentity } from '../src/connections'
import { streamFor, type StreamFunction, type StreamPluginOptions } from './stream'
import { helpersDerive } from './stream-context'
import { seedOf } from './app-state'

/** Options of streaming(): the options of each bundled plugin. */
export interface StreamingOptions<Events extends PublishEvents = PublishEvents> {
	/** Defaults for every sse() response. */
	sse?: SsePluginOptions
	/** Defaults for every ndjson() response and ndjsonBody() read. */
	ndjson?: NdjsonPluginOptions
	/** Defaults for every file() call (e.g. `{ root: './public' }`). */
	file?: FilePluginOptions
	/** Defaults for every stream() response. */
	stream?: StreamPluginOptions
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
 * `stream()`, `broadcast` / `subscribe()`, the connection manager
 * (`connections`, `clusterConnections()`) and the typed events route option,
 * sharing the app's one connection registry and hub. Mixed with the plugins
 * one by one, in any order, they still share them.
 *
 * @example
 * new Elysia().use(streaming()).get('/events', ({ sse }) => sse([{ data: 'hello' }]))
 */
export const streaming = <Events extends PublishEvents = PublishEvents>(options: StreamingOptions<Events> = {}) => {
	const sse = sseFor(options.sse ?? {})
	const ndjson = ndjsonFor(options.ndjson ?? {})
	const file = fileFor(options.file ?? {})
	const stream = streamFor(options.stream ?? {})
	const broadcast = broadcastFor({ ...options.broadcast, transport: options.transport })
	// One derive for every helper: each global derive is paid by every request of the app. Each
	// helper is made when a handler takes it (see helpersDerive).
	const helpers = helpersDerive({
		sse: (context) => ((source: SseSource, options?: SseOptions & StreamIdentity) => sse(context, source, options)) as SseFunction,
		ndjson: (context) => ((source, options) => ndjson.ndjson(context, source, options)) as NdjsonFunction,
		ndjsonBody: (context) => ((schema, options) => ndjson.ndjsonBody(context, schema, options as never)) as NdjsonBodyFunction,
		file: (context) => ((name, options) => file(context, name, options)) as FileFunction,
		stream: (context) => ((source, options) => stream(context, source, options)) as StreamFunction,
		subscribe: (context) => ((topic, subscription) => broadcast.subscribe(context, topic, subscription)) as SubscribeFunction
	})
	return new Elysia({ name: 'sluice', seed: seedOf(options) })
		.use(connectionsPlugin(options.connections))
		.use(hubPlugin(broadcast, options.broadcast ?? {}))
		.use(eventsPlugin(options.events))
		.onStart(helpers.onStart)
		.derive({ as: 'global' }, helpers.derive)
}

// The public API, as docs/api.md lists it: test/pack.test.ts fails on a name that is not there.
// Plugins
export { ssePlugin, type SsePluginOptions, type SseResponse, type SseFunction } from './sse'
export {
	ndjsonPlugin,
	type NdjsonPluginOptions,
	type NdjsonResponse,
	type NdjsonFunction,
	type NdjsonBodyFunction
} from './ndjson'
export { filePlugin, type FilePluginOptions, type FileFunction } from './file'
export { streamPlugin, type StreamPluginOptions, type StreamFunction } from './stream'
export { broadcastPlugin, type BroadcastOptions, type SubscribeFunction } from './broadcast'
export {
	connectionsPlugin,
	stopOnSignals,
	type ConnectionsOptions,
	type ConnectionsRoutes,
	type ConnectionsGuard
} from './connections'
export { eventsPlugin, type EventsPluginOptions } from './events'
export { streamContext, type HandlerContext } from './stream-context'

// Typed events
export { events, type EventRegistry, type EventCodec, type EventsOf, type EventSchemas, type EventTypes } from '../src/events'
export type { EventMessage, EventItem, ControlItem } from '../src/events'

// What the helpers take and give
export type { SseEvent, SseItem, SseHandle, SseCallback, SseOptions, SendOptions } from '../src/sse'
export type { NdjsonHandle, NdjsonCallback, NdjsonOptions, NdjsonBodyOptions, NdjsonErrorLine } from '../src/ndjson'
export type { FileOptions, FileCompressOptions, UploadOptions, UploadResult } from '../src/file'
export type { CompressOption, CompressOptions } from '../src/stream/compression'
export type { Encoding } from '../src/stream/accept-encoding'
export { saveUpload, cleanUploads } from '../src/file'
export type { BodyStreamHandle, BodyStreamCallback, BodyStreamOptions, Chunk } from '../src/stream'

// Broadcast and transports (redis: sluice/redis)
export { memory } from '../src/hub'
export type {
	Hub,
	HubOptions,
	EventChecker,
	SubscriptionOptions,
	SlowConsumerPolicy,
	PresenceOptions,
	FrameView,
	Transport,
	ControlChannel,
	ControlMessage,
	Frame,
	Replay,
	MemoryTransportOptions,
	HistoryOptions,
	TopicsOptions,
	TopicStart,
	TopicsSubscription
} from '../src/hub'

// The connection manager
export type {
	ConnectionRegistry,
	ConnectionRegistryOptions,
	ConnectionLimits,
	Connection,
	ConnectionInfo,
	ConnectionCounts,
	ConnectionSelector,
	StreamIdentity,
	ExpiryOptions,
	LiveStream,
	StreamKind,
	DrainOptions,
	DrainResult,
	Farewell,
	Farewells,
	FarewellContext
} from '../src/connections'

// Encoders
export { encodeSse, encodeSseBytes, encodeComment, lastEventIdOf, eventIdNumber } from '../src/sse'
export { encodeNdjson } from '../src/ndjson'

// The stream core, for a format of your own
export { ResponseStream, pump, abortableSleep } from '../src/stream'
export type { ResponseStreamOptions, CloseReason, CloseListener, Source, PumpOptions, StreamContext } from '../src/stream'

// Errors
export { SluiceError, OptionError } from '../src/errors'
export { SseFieldError } from '../src/sse'
export { EventDataError } from '../src/events'
export { BroadcastDataError, TopicsError } from '../src/hub'
export { NdjsonBodyError, NdjsonEncodeError } from '../src/ndjson'
