import { Elysia } from 'elysia'
import type { SseOptions } from '../src/sse'
import { shareConnectionCounts, type ConnectionRegistry, type StreamIdentity } from '../src/connections'
import { Hub, memory, subscriptionStream, type EventChecker, type HubOptions, type PublishEvents, type SubscriptionOptions } from '../src/hub'
import { EventRegistry, type EventCodec } from '../src/events'
import { checkTopics } from '../src/hub/topic-cursor'
import { helpersDerive, streamContext, type HelperContext } from './stream-context'
import { registryOf, seedOf } from './app-state'
import type { SseResponse } from './sse'

/** Options of the broadcast plugin. */
export interface BroadcastOptions<Events extends PublishEvents = PublishEvents> extends Omit<HubOptions<Events>, 'registry'> {
	/**
	 * The typed event registry (`events({...})`) publish checks data against and
	 * encodes it by; one made by `sluice/client`'s events() (shared with a
	 * browser page) is given the server's checkers.
	 */
	registry?: (EventChecker | EventCodec<any>) & { readonly Events?: Events }
	/** Defaults of every subscription's SSE response (heartbeats, retry hint, headers). */
	sse?: Omit<SseOptions, 'exposeErrors'>
}

/** subscribe() on the handler context: one topic, or many on one stream (docs/topics.md). */
export type SubscribeFunction = <Events extends Record<string, unknown> = Record<string, unknown>>(
	topic: string | readonly string[],
	options?: SubscriptionOptions & StreamIdentity
) => SseResponse<Events>

/**
 * Adds `broadcast` (publish to topics, live counts) and `subscribe(topic)` (an
 * SSE response fed by a topic: history, then live frames) to the context. The
 * subscriptions are counted, limited and drained by the app's connection
 * manager, if it has one.
 *
 * @example
 * app.use(broadcastPlugin())
 *   .get('/room', ({ subscribe }) => subscribe('room', { last: 10 }))
 *   .post('/room', ({ broadcast, body }) => broadcast.publish('room', 'message', body))
 */
export const broadcastPlugin = <Events extends PublishEvents = PublishEvents>(options: BroadcastOptions<Events> = {}) => {
	const broadcast = broadcastFor(options)
	const helpers = helpersDerive({
		subscribe: (context) => ((topic, subscription) => broadcast.subscribe(context, topic, subscription)) as SubscribeFunction
	})
	return hubPlugin(broadcast, options).onStart(helpers.onStart).derive({ as: 'global' }, helpers.derive)
}

/** `broadcast` on the context, its transport carrying the app's connection counts, and the hub closed when the app stops. */
export const hubPlugin = <Events extends PublishEvents>({ hub, shareCounts }: Broadcast<Events>, options: object) =>
	new Elysia({ name: 'sluice/broadcast', seed: seedOf(options) })
		.decorate('broadcast', hub)
		.onStart((app) => {
			const registry = registryOf(app)
			shareCounts(registry)
			// close({ user }) and close({ topic }) reach the other processes through the hub's transport.
			registry.linkControl(hub.transport.control)
		})
		.onStop(() => hub.close())

/**
 * The hub, what makes a request's subscribe() (used by broadcastPlugin and
 * streaming()), and how the hub's shared counts learn the app's connection
 * registry, so that a transport spanning processes can sum its counts.
 */
export function broadcastFor<Events extends PublishEvents>(options: BroadcastOptions<Events>): Broadcast<Events> {
	const { sse: sseDefaults = {}, transport = memory(), registry: events, ...hubOptions } = options
	const hasDefaults = Object.keys(sseDefaults).length > 0
	const registry = laterRegistry()
	const hub = new Hub<Events>({ ...hubOptions, registry: checkerOf(events), transport })
	shareConnectionCounts(hub.sharedCounts, registry)
	const subscribe = (
		context: HelperContext,
		topic: string | readonly string[],
		subscription: SubscriptionOptions & StreamIdentity = {}
	): Response => {
		const many = typeof topic !== 'string'
		// A set of topics the stream cannot carry is the request's fault: a 400, before anything opens.
		if (many) checkTopics([...new Set(topic)], subscription.maxTopics)
		// The user stays in the subscription's options too: presence events are given it.
		const ctx = streamContext(context, context.registry, 'sse', many ? [...new Set(topic)] : [topic], subscription)
		// The app's one hub: another broadcastPlugin of the app may have made it.
		const appHub = context.hub ?? hub
		// The subscription's own options as they are, unless there are defaults to merge or a hook to add.
		const options: SubscriptionOptions = many || hasDefaults ? { ...sseDefaults, ...subscription } : subscription
		if (many)
			options.onTopicsChange = (topics, stream) => {
				context.registry.setTopics(stream.id, topics)
				subscription.onTopicsChange?.(topics, stream)
			}
		return ctx.admit() ?? subscriptionStream(ctx, appHub, topic, options).response
	}
	return { hub, subscribe, shareCounts: registry.attach }
}

/** The app's hub, what answers a request's subscribe(), and how the hub's shared counts learn the app's registry. */
interface Broadcast<Events extends PublishEvents> {
	hub: Hub<Events>
	subscribe: (context: HelperContext, topic: string | readonly string[], subscription?: SubscriptionOptions & StreamIdentity) => Response
	shareCounts: (registry: ConnectionRegistry) => void
}

/** A registry that checks: a client's (schemas only) gets the server's compiled checkers. */
const checkerOf = (registry: EventChecker | EventCodec<any> | undefined): EventChecker | undefined =>
	registry && !('check' in registry) ? new EventRegistry(registry.schemas) : registry

// shareConnectionCounts listens with a function that reads no arguments.
type Listener = (...args: any[]) => void

/** A registry known only once the app starts: the hub's shared counts are given it before that. */
function laterRegistry() {
	let target: ConnectionRegistry | undefined
	const opens = new Set<Listener>()
	const closes = new Set<Listener>()
	let offs: (() => void)[] = []
	const wire = () => {
		for (const off of offs) off()
		offs = []
		if (!target) return
		for (const listener of opens) offs.push(target.onOpen(listener))
		for (const listener of closes) offs.push(target.onClose(listener))
	}
	const listen = (set: Set<Listener>) => (listener: Listener) => {
		set.add(listener)
		wire()
		return () => {
			set.delete(listener)
			wire()
		}
	}
	return {
		counts: (options?: Parameters<ConnectionRegistry['counts']>[0]) =>
			target?.counts(options) ?? { total: 0, byRoute: {}, byTopic: {}, byAddress: {}, byKind: {}, byUser: {} },
		onOpen: listen(opens),
		onClose: listen(closes),
		attach(registry: ConnectionRegistry): void {
			if (registry === target) return
			target = registry
			wire()
			// Its streams so far count too.
			for (const listener of opens) listener()
		}
	}
}
