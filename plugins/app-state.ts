import type { AnyElysia } from 'elysia'
import { ConnectionRegistry } from '../src/connections'
import { Hub } from '../src/hub'

// What the plugins of one app share, found from the app itself when it starts. Plugins are
// made before they know their app, but Elysia merges every plugin's decorators into the app
// that uses it, keeping the first of a name, whatever the order of the .use() calls: the
// connection manager's `connections` is the app's registry, broadcast's `broadcast` its hub.
// An app without a connection manager gets a registry of its own here, one for all its helpers.
const ownRegistries = new WeakMap<AnyElysia, ConnectionRegistry>()

const decorated = (app: AnyElysia, name: string): unknown => (app.decorator as Record<string, unknown>)[name]

/** The one connection registry of `app`: the connection manager's, else one made for the app. */
export function registryOf(app: AnyElysia): ConnectionRegistry {
	const registry = decorated(app, 'connections')
	if (registry instanceof ConnectionRegistry) return registry
	let own = ownRegistries.get(app)
	if (!own) ownRegistries.set(app, (own = new ConnectionRegistry()))
	return own
}

/** The one hub of `app` (broadcast's), if it has one. */
export function hubOf(app: AnyElysia): Hub | undefined {
	const hub = decorated(app, 'broadcast')
	return hub instanceof Hub ? hub : undefined
}

let instances = 0

/**
 * The seed of a plugin's Elysia instance. Elysia skips a plugin whose name and
 * JSON seed it has seen; JSON drops functions and flattens live objects, so two
 * plugins whose options differ only in those (a guard, a transport) would be
 * taken for one. Options holding them get a seed of their own instead.
 */
export function seedOf(options: object): unknown {
	return holdsLive(options) ? { 'sluice:instance': ++instances } : options
}

function holdsLive(value: unknown): boolean {
	if (typeof value === 'function') return true
	if (value === null || typeof value !== 'object') return false
	const proto = Object.getPrototypeOf(value)
	if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return true
	return Object.values(value).some(holdsLive)
}
