import { sseStream, type SseContext } from '../../sse/respond'
import type { ResponseStream } from '../../stream'
import type { Dashboard } from './dashboard'

/** Rows of the connection table sent at most, whatever a viewer asks. */
export const MAX_PAGE = 200

/** The page of the connection table a viewer asks for in the feed's query (`offset`, `limit`). */
export function pageOf(url: URL): { offset: number; limit: number } {
	const number = (name: string, fallback: number) => {
		const n = Number(url.searchParams.get(name) ?? fallback)
		return Number.isSafeInteger(n) && n >= 0 ? n : fallback
	}
	return { offset: number('offset', 0), limit: Math.min(MAX_PAGE, Math.max(1, number('limit', 50))) }
}

/**
 * The dashboard's data stream: `rates` (the chart's history) at once, then a
 * `summary` (encoded once for every viewer) and this viewer's `connections`
 * page on every update. A viewer still behind on the last update is skipped:
 * the next one says everything again, so nothing piles up for a slow page.
 */
export function dashboardFeed(
	ctx: SseContext,
	dashboard: Dashboard,
	{ offset, limit }: { offset: number; limit: number },
	heartbeatMs?: number
): ResponseStream {
	return sseStream(
		ctx,
		(handle) =>
			new Promise<void>((resolve) => {
				const stream = handle.stream
				const send = (frame: Uint8Array) => {
					if (stream.closed || stream.backpressured) return
					stream.write(frame, 1)
					void handle.send('connections', dashboard.page(offset, limit))
				}
				void handle.send('rates', dashboard.rates.history())
				const off = dashboard.onUpdate((_, frame) => send(frame))
				dashboard.current().then(({ frame }) => send(frame), () => {})
				handle.signal.addEventListener(
					'abort',
					() => {
						off()
						resolve()
					},
					{ once: true }
				)
			}),
		{ heartbeatMs, retryMs: 1000 }
	)
}
