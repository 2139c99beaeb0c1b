import type { Server } from 'bun'
import { ConnectionRegistry, identityOf, refusalResponse, type ConnectionInfo, type LiveStream, type StreamIdentity, type StreamKind } from '../src/connections'
import type { Hub } from '../src/hub'
import { Elysia, type AnyElysia } from 'elysia'
import { rememberApp, reportStreamError } from './app-errors'
import { hubOf, registryOf, seedOf } from './app-state'

/** The parts of Elysia's handler context a stream needs. */
export interface HandlerContext {
	request: Request
	server: Server<unknown> | null
	route?: string
	/** Passed on to the app's error hooks with a mid-stream error. */
	set?: unknown
}

/** What the derive touches of Elysia's context: its request and route, and its prototype. */
interface RequestFields {
	request: Request
	route: string
	__proto__?: object
}

/** What a helper of one request is made from: its context, and what the app's plugins share. */
export interface HelperContext extends HandlerContext {
	/** The app's one connection registry. */
	registry: ConnectionRegistry
	/** The app's one hub, if broadcast is used. */
	hub?: Hub
}

/** How each helper of a request is made from its context (see helpersDerive). */
export type HelperFactories<T> = { [K in keyof T]: (context: HelperContext) => T[K] }

// What the derive hands Elysia to merge into the context: nothing, the helpers are on its prototype.
const NOTHING = Object.freeze({})

/**
 * The global derive of a streaming plugin. The helpers (sse, ndjson, ...) are
 * getters on a prototype the derive gives each request's context, so a request
 * pays for a helper only when its handler takes it: Elysia copies a derive's
 * result onto the context with Object.assign, which would build every helper of
 * every request, those of the routes that do not stream too (docs/benchmarks.md).
 * A getter builds its helper from the context's `request` and `route`; the
 * server, the connection registry and the hub come from the app's start:
 * asking Elysia for `server`, `path` or `set` costs every request of the app
 * more than the rest of a plain route (`set` turns Elysia's compact response
 * mapping off), and a stream's error hooks get a `set` of their own. Several
 * Sluice plugins on one app chain their prototypes.
 *
 * @example
 * const sse = sseFor(defaults)
 * const helpers = helpersDerive({ sse: (context) => (source, options) => sse(context, source, options) })
 * new Elysia().onStart(helpers.onStart).derive({ as: 'global' }, helpers.derive)
 */
export function helpersDerive<T extends object>(factories: HelperFactories<T>) {
	let server: Server<unknown> | null = null
	// Until the app starts (a request through app.handle()), a registry of this plugin's own.
	let registry: ConnectionRegistry | undefined
	let hub: Hub | undefined
	class RequestContext implements HelperContext {
		constructor(
			readonly request: Request,
			readonly route: string
		) {}
		get server() {
			return server
		}
		get registry() {
			return (registry ??= new ConnectionRegistry())
		}
		get hub() {
			return hub
		}
	}
	const getters: PropertyDescriptorMap = {}
	for (const [name, make] of Object.entries(factories) as [string, (context: HelperContext) => unknown][])
		getters[name] = {
			get(this: RequestFields) {
				return make(new RequestContext(this.request, this.route))
			},
			configurable: true
		}
	const helpers = Object.defineProperties({}, getters)
	// This plugin's helpers in front of another's (or anything else a context was given), made once per pair.
	const chained = new WeakMap<object, object>()
	const inFrontOf = (proto: object): object => {
		let both = chained.get(proto)
		if (!both) chained.set(proto, (both = Object.create(proto, getters) as object))
		return both
	}
	return {
		/** Learns the app (for its error hooks), its server, and what its plugins share. */
		onStart(app: AnyElysia): void {
			rememberApp(app)
			server = (app.server as Server<unknown> | null) ?? null
			registry = registryOf(app)
			hub = hubOf(app)
		},
		// Elysia reads a hook's source to learn what it needs. So this body passes the context to no
		// call (that would make every route parse its body and more), reads `route` by name (so that
		// Elysia sets it on the context), and reads as synchronous: `=> f(` or `return f(` would make
		// every route await it (test/plugins/overhead.test.ts checks all three).
		derive(context: RequestFields): T {
			void context.route
			const proto = context.__proto__
			if (proto !== helpers) context.__proto__ = proto === Object.prototype ? helpers : inFrontOf(proto!)
			return NOTHING as T
		}
	}
}

/** A plugin named `name` that adds the helpers `factories` make for each request (see helpersDerive). */
export function helpersPlugin<T extends Record<string, unknown>>(name: string, options: object, factories: HelperFactories<T>) {
	const helpers = helpersDerive(factories)
	return new Elysia({ name, seed: seedOf(options) })
		.onStart(helpers.onStart)
		.derive({ as: 'global' }, helpers.derive)
}

/**
 * What every streaming helper (sse, ndjson, file, stream) is given: the request, Bun's
 * server, where mid-stream errors go, the admission check, and the
 * registration of the stream in the connection registry, in one place.
 *
 * A helper calls `admit()` right before it opens its stream (no await in
 * between) and returns the Response it gets, if any (503 or 429 with
 * Retry-After; while draining, an SSE request gets its farewell frame as a 200
 * that ends, so that EventSource reconnects later), instead of opening:
 *
 * `identity` (the helper's `user` and `expiresAt` options) is checked here
 * (a bad one throws before anything opens) and registered with the stream.
 *
 * @example
 * const ctx = streamContext(context, registry, 'ndjson')
 * return ctx.admit() ?? openMyStream(ctx).response
 */
export function streamContext(
	context: HandlerContext,
	registry: ConnectionRegistry,
	kind: StreamKind,
	topics: string[] = [],
	identity: StreamIdentity = {}
) {
	const { request, server } = context
	const { user, expiresAt } = identityOf(identity)
	const address = registry.addressOf(request, server?.requestIP(request)?.address)
	const route = context.route ?? new URL(request.url).pathname
	let admitted = false
	const admit = (): Response | undefined => {
		const refusal = registry.admit(address, kind, route)
		admitted = !refusal
		return refusal && refusalResponse(refusal)
	}
	return {
		request,
		server,
		/** The refusal Response (503 or 429) if a limit is reached, else undefined: open the stream. */
		admit,
		onError: (error: unknown) => reportStreamError(context, error),
		onOpen: (stream: LiveStream) => {
			// A helper that skipped admit() still may not pass the limits: its stream ends at once.
			if (!admitted && admit()) return stream.close('server')
			const info: ConnectionInfo = { kind, route, topics, address, userAgent: request.headers.get('user-agent') ?? undefined }
			if (user !== undefined) info.user = user
			if (expiresAt !== undefined) info.expiresAt = expiresAt
			registry.add(stream, info)
		}
	}
}
