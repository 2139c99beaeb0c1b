import type { Server } from 'bun'
import { ConnectionRegistry, identityOf, refusalResponse, type LiveStream, type StreamIdentity, type StreamKind } from '../src/connections'
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

/** The context fields a helper is made from, as the derive receives them. */
interface DeriveInput {
	request: Request
	route: string
}

/** What a helper of one request is made from: its context, and what the app's plugins share. */
export interface HelperContext extends HandlerContext {
	/** The app's one connection registry. */
	registry: ConnectionRegistry
	/** The app's one hub, if broadcast is used. */
	hub?: Hub
}

/**
 * The global derive of a streaming plugin: `make` builds the request's helpers
 * (sse, ndjson, ...) from the few context fields they need. The server, the
 * connection registry and the hub come from the app's start, not from the
 * context: asking Elysia for `server`, `path` or `set` costs every request of
 * the app more than the rest of a plain route (`set` turns Elysia's compact
 * response mapping off), and a stream's error hooks get a `set` of their own.
 * Named fields, not the whole context: Elysia infers what each route parses
 * from what hooks touch, and a hook that takes it all would parse every body.
 * Each request gets one small object (its request and route; what the app
 * shares is read through its prototype), which the helpers close over.
 *
 * @example
 * const sse = sseFor(defaults)
 * const helpers = helpersDerive((context) => ({ sse: sse(context) }))
 * new Elysia().onStart(helpers.onStart).derive({ as: 'global' }, helpers.derive)
 */
export function helpersDerive<T>(make: (context: HelperContext) => T) {
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
	return {
		/** Learns the app (for its error hooks), its server, and what its plugins share. */
		onStart(app: AnyElysia): void {
			rememberApp(app)
			server = (app.server as Server<unknown> | null) ?? null
			registry = registryOf(app)
			hub = hubOf(app)
		},
		// Elysia reads a hook's source to guess whether it returns a promise: `=> f(` or `return f(`
		// (which Bun's transpiler makes of `const x = f(); return x`) reads as yes, and then every
		// route of the app awaits it, about 70 ns a request. The body is written to read as what it
		// is (test/plugins/overhead.test.ts checks that a plain route's answer is not a promise).
		derive({ request, route }: DeriveInput): T {
			const helpers = make(new RequestContext(request, route))
			if (helpers) return helpers
			throw new TypeError('sluice: a helpers factory made nothing')
		}
	}
}

/** A plugin named `name` that adds the helpers `make` builds for each request (see helpersDerive). */
export function helpersPlugin<T extends Record<string, unknown>>(
	name: string,
	options: object,
	make: (context: HelperContext) => T
) {
	const helpers = helpersDerive(make)
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
			registry.add(stream, {
				kind,
				route,
				topics,
				address,
				userAgent: request.headers.get('user-agent') ?? undefined,
				...(user !== undefined && { user }),
				...(expiresAt !== undefined && { expiresAt })
			})
		}
	}
}
