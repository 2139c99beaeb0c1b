import type { AnyElysia } from 'elysia'

// Errors thrown after a handler returned its Response never reach Elysia's
// onError. The root app is captured at start, keyed by its server, so a stream
// can hand its error to the app's own error hooks.
const apps = new WeakMap<object, AnyElysia>()

/** Remembers the app that owns `server` (called from onStart). */
export function rememberApp(app: AnyElysia): void {
	if (app.server) apps.set(app.server, app)
}

/** Reports an error raised mid-stream to the app's error hooks; never throws. */
export function reportStreamError(context: { server?: object | null; request?: Request }, error: unknown): void {
	const app = context.server ? apps.get(context.server) : undefined
	if (!app) {
		console.error('[sluice] error in stream:', error)
		return
	}
	try {
		// The hooks read `path` like any context; it is only worked out when a stream fails.
		const path = context.request ? new URL(context.request.url).pathname : undefined
		const handled = (app as unknown as { handleError(c: unknown, e: unknown): unknown }).handleError(
			{ ...context, path },
			error
		)
		if (handled instanceof Promise) handled.catch(() => {})
	} catch {}
}
