import type { AnyElysia } from 'elysia'
import { NdjsonBodyError } from '../src/ndjson'

// Errors thrown after a handler returned its Response never reach Elysia's
// onError. The root app is captured at start, keyed by its server, so a stream
// can hand its error to the app's own error hooks.
const apps = new WeakMap<object, AnyElysia>()

/** Remembers the app that owns `server` (called from onStart). */
export function rememberApp(app: AnyElysia): void {
	if (app.server) apps.set(app.server, app)
}

/** What a report needs of the failed request's handler context. */
interface FailedContext {
	server?: object | null
	request?: Request
	/** The route as declared (`/sse/:room`), else the path is used. */
	route?: string
	set?: unknown
}

/**
 * Reports an error raised mid-stream to the app's error hooks, or, when the
 * app has none, to console.error with the method and route: an error is never
 * dropped unseen. A bad request body is the client's mistake, answered in the
 * stream itself (its error line or frame): it is not reported, so a client
 * cannot fill the log. Never throws.
 */
export function reportStreamError(context: FailedContext, error: unknown): void {
	if (error instanceof NdjsonBodyError) return
	const app = context.server ? apps.get(context.server) : undefined
	// The hooks read `path` like any context; it is only worked out when a stream fails.
	const path = context.request ? new URL(context.request.url).pathname : undefined
	if (!app?.event.error?.length) {
		const where = context.request ? ` of ${context.request.method} ${context.route ?? path}` : ''
		console.error(`[sluice] error in the stream${where}:`, error)
		return
	}
	try {
		// The response went out long ago: the hooks get a `set` of their own (the helpers never ask Elysia for one).
		const { request, route, server, set = { headers: {}, status: 500 } } = context
		const handled = (app as unknown as { handleError(c: unknown, e: unknown): unknown }).handleError(
			{ request, route, server, path, set },
			error
		)
		if (handled instanceof Promise) handled.catch(() => {})
	} catch {}
}
