import { Elysia } from 'elysia'
import type { SseOptions } from '../src/sse'
import { ConnectionRegistry } from '../src/connections'
import { Hub, subscriptionStream, type HubOptions, type PublishEvents, type SubscriptionOptions } from '../src/hub'
import { helpersDerive, streamContext, type HandlerContext } from './stream-context'
import type { SseResponse } from './sse'

/** Options of the broadcast plugin. */
export interface BroadcastOptions<Events extends PublishEvents = PublishEvents> extends HubOptions<Events> {
	/** Defaults of every subscription's SSE response (heartbeats, retry hint, headers). */
	sse?: Omit<SseOptions, 'exposeErrors'>
}

/** subscribe() on the handler context. */
export type SubscribeFunction = <Events extends Record<string, unknown> = Record<string, unknown>>(
	topic: string,
	options?: SubscriptionOptions
) => SseResponse<Events>

/**
 * Adds `broadcast` (publish to topics, live counts) and `subscribe(topic)` (an
 * SSE response fed by a topic: history, then live frames) to the context.
 *
 * @example
 * app.use(broadcastPlugin())
 *   .get('/room', ({ subscribe }) => subscribe('room', { last: 10 }))
 *   .post('/room', ({ broadcast, body }) => broadcast.publish('room', 'message', body))
 */
export const broadcastPlugin = <Events extends PublishEvents = PublishEvents>(
	options: BroadcastOptions<Events> = {},
	registry: ConnectionRegistry = new ConnectionRegistry()
) => {
	const { hub, subscribe } = broadcastFor(options, registry)
	const helpers = helpersDerive((context) => ({ subscribe: subscribe(context) }))
	return hubPlugin(hub, options).onStart(helpers.onStart).derive({ as: 'global' }, helpers.derive)
}

/** `broadcast` on the context, and the hub closed when the app stops. */
export const hubPlugin = <Events extends PublishEvents>(hub: Hub<Events>, seed: unknown) =>
	new Elysia({ name: 'sluice/broadcast', seed })
		.decorate('broadcast', hub)
		.onStop(() => hub.close())

/** The hub, and what makes a request's subscribe() (used by broadcastPlugin and streaming()). */
export function broadcastFor<Events extends PublishEvents>(options: BroadcastOptions<Events>, registry: ConnectionRegistry) {
	const { sse: sseDefaults = {}, ...hubOptions } = options
	const hub = new Hub<Events>(hubOptions)
	const subscribe =
		(context: HandlerContext): SubscribeFunction =>
			((topic, subscription = {}) => {
				const ctx = streamContext(context, registry, 'sse', [topic])
				return ctx.admit() ?? subscriptionStream(ctx, hub, topic, { ...sseDefaults, ...subscription }).response
			}) as SubscribeFunction
	return { hub, subscribe }
}
