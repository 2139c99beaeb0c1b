import type { AnyElysia } from 'elysia'
import { stopOnSignals } from 'sluice'

/** The port an example listens on: PORT, else 3000. */
export const port = Number(process.env.PORT ?? 3000)

/**
 * Starts an example app, prints its URL and how to try it, and stops it
 * cleanly on SIGINT/SIGTERM: the connection manager's drain gives every open
 * stream its last frame (SSE: `event: shutdown` with a `retry:` hint), then the
 * server stops and the process exits, within the drain's grace period.
 */
export function serveExample(app: AnyElysia, ...tryLines: string[]): void {
	// REUSE_PORT=1 (set by examples/cluster.ts) lets several processes share the port.
	app.listen({ port, hostname: process.env.HOST ?? '0.0.0.0', reusePort: process.env.REUSE_PORT === '1' })
	const url = `http://localhost:${port}`
	// One write: a reader of this process's stdout (the tests) sees the URL and the hints together.
	console.log([`Listening on ${url}`, ...tryLines.map((line) => `Try: ${line.replaceAll('$URL', url)}`)].join('\n'))
	stopOnSignals(app)
}
