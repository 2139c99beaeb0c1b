import { Elysia, type AnyElysia, type Context } from 'elysia'
import {
	ConnectionRegistry,
	PROMETHEUS_CONTENT_TYPE,
	clusterConnectionCounts,
	watchCounts,
	type ConnectionCounts,
	type ConnectionRegistryOptions,
	type DrainOptions
} from '../src/connections'
import type { Hub } from '../src/hub'
import { streamContext } from './stream-context'
import { hubOf, registryOf, seedOf } from './app-state'
import { dashboardRoutes } from './dashboard'

/**
 * Who may read the connection routes: true lets the request through, false
 * answers 403, and a Response (e.g. a 401 asking for a token) is sent as is.
 */
export type ConnectionsGuard = (context: Context) => boolean | Response | Promise<boolean | Response>

/** The optional routes of the connection manager. None is served unless its path is given. */
export interface ConnectionsRoutes {
	/**
	 * Decides, per request, whether the routes answer (required: these routes
	 * show client addresses). Check a secret (a bearer token), not the peer's
	 * address: behind a same-host proxy every request comes from loopback.
	 */
	guard: ConnectionsGuard
	/** Path of a JSON snapshot: live counts and every connection. @default off */
	snapshot?: string
	/** Path of an SSE stream of live counts, updated as connections come and go. @default off */
	watch?: string
	/** Path of Prometheus text metrics. @default off */
	metrics?: string
	/** At most one counts update per this many milliseconds on the watch route. @default 100 */
	watchIntervalMs?: number
	/**
	 * Path of a live dashboard page (streams, topics, rates, trouble, processes,
	 * a connection table with a close action), served from the app, no CDN.
	 * A browser comes in with `?token=<bearer token>` once (kept in a cookie):
	 * the guard must accept `Authorization: Bearer <token>`. @default off
	 */
	dashboard?: string
}

/** Options of the connection manager. */
export interface ConnectionsOptions extends ConnectionRegistryOptions {
	/**
	 * What `app.stop()` does first: refuse new streams, send every stream its
	 * last frame and close it, within `graceMs`; then stop the server, cutting
	 * what is still open when the grace ends. `false` leaves stop() as Elysia's.
	 * @default { graceMs: 5000, retryMs: 1000, reason: 'server shutting down' }
	 */
	drain?: DrainOptions | false
	/** Routes that expose the connections. @default none */
	routes?: ConnectionsRoutes
}

/**
 * The connection manager: `connections` on the context (live counts, list,
 * get, close, open/close listeners, metrics), limits on open streams, a drain
 * on `app.stop()` that does not wait forever, and optional guarded routes. It
 * counts the streams of every Sluice plugin of the app, in whatever order they
 * are used (one registry per app: the first connection manager's options apply).
 * `clusterConnections()` sums the counts over every process of broadcast's
 * transport (this process's alone without broadcast, or with `memory()`).
 *
 * @example
 * app.use(connectionsPlugin({ maxStreams: 10_000, maxPerAddress: 20,
 *   trustProxy: ['127.0.0.1'],
 *   routes: { guard: ({ request }) => hasAdminToken(request), snapshot: '/connections' } }))
 */
export const connectionsPlugin = (options: ConnectionsOptions = {}) => {
	const { drain = {}, routes } = options
	const own = new ConnectionRegistry(options)
	// The app's registry and hub, once it starts: this one's, unless another plugin of the app came first.
	let registry = own
	let hub: Hub | undefined
	const clusterConnections = (): Promise<ConnectionCounts> =>
		hub ? clusterConnectionCounts(hub.transport) : Promise.resolve(registry.counts())
	const plugin = new Elysia({ name: 'sluice/connections', seed: seedOf(options) })
		.decorate('connections', own)
		/** Connection counts summed over every process of the broadcast transport. */
		.decorate('clusterConnections', clusterConnections)
		.onStart((app) => {
			registry = registryOf(app)
			hub = hubOf(app)
			registry.reopen()
			if (drain !== false) drainOnStop(app, registry, drain)
		})
	if (!routes) return plugin

	const guarded =
		(handler: (context: Context) => Response) =>
		async (context: Context): Promise<Response> => {
			const verdict = await routes.guard(context)
			if (verdict instanceof Response) return verdict
			return verdict ? handler(context) : Response.json({ error: 'forbidden' }, { status: 403 })
		}
	if (routes.snapshot)
		plugin.get(
			routes.snapshot,
			guarded(() => Response.json({ counts: registry.counts(), connections: registry.list() }))
		)
	if (routes.watch)
		plugin.get(
			routes.watch,
			guarded((context) => {
				const ctx = streamContext(context, registry, 'sse')
				return ctx.admit() ?? watchCounts(ctx, registry, { intervalMs: routes.watchIntervalMs }).response
			})
		)
	if (routes.metrics)
		plugin.get(
			routes.metrics,
			guarded(() => new Response(registry.metrics(), { headers: { 'content-type': PROMETHEUS_CONTENT_TYPE } }))
		)
	if (routes.dashboard) plugin.use(dashboardRoutes(routes.dashboard, routes.guard, { registry: () => registry, hub: () => hub }))
	return plugin
}

const wrapped = new WeakSet<AnyElysia>()

/**
 * Elysia's stop() awaits server.stop(), which waits for every open stream, and
 * runs onStop hooks only after that: too late to close them. So the app's stop
 * is wrapped: drain first, then stop, and cut whatever is left at the deadline.
 */
function drainOnStop(app: AnyElysia, registry: ConnectionRegistry, drain: DrainOptions): void {
	if (wrapped.has(app)) return
	wrapped.add(app)
	const stop = app.stop
	app.stop = async (closeActiveConnections?: boolean) => {
		const graceMs = drain.graceMs ?? 5000
		const deadline = performance.now() + graceMs
		await registry.drain(closeActiveConnections ? { ...drain, graceMs: 0 } : drain)
		const server = app.server
		const stopped = stop(closeActiveConnections)
		if (closeActiveConnections || !server) return stopped
		const left = Math.max(0, deadline - performance.now())
		let timer: Timer | undefined
		const inTime = await Promise.race([
			stopped.then(() => true),
			new Promise<false>((resolve) => (timer = setTimeout(resolve, left, false)))
		])
		clearTimeout(timer)
		// Past the grace: a client that will not take its last bytes, or a request that is not a stream.
		if (!inTime) server.stop(true)
		return stopped
	}
}

/**
 * Stops `app` (draining its streams) on SIGINT and SIGTERM, then exits; a
 * second signal exits at once. For examples and small services.
 */
export function stopOnSignals(app: AnyElysia, signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): void {
	let stopping = false
	const onSignal = () => {
		if (stopping) process.exit(1)
		stopping = true
		app.stop().then(
			() => process.exit(0),
			() => process.exit(1)
		)
	}
	for (const signal of signals) process.on(signal, onSignal)
}
