import { sseStream, type SseContext } from '../sse/respond'
import type { ResponseStream } from '../stream'
import type { ConnectionRegistry } from './registry'

/** Options of watchCounts(). */
export interface WatchCountsOptions {
	/** At most one update per this many milliseconds; changes in between are sent together. @default 100 */
	intervalMs?: number
	/** Milliseconds of silence before a heartbeat comment. @default 15000 */
	heartbeatMs?: number
}

/**
 * An SSE stream of the registry's live counts: an `event: counts` frame at
 * once, then one each time streams open or close (bursts coalesced).
 */
export function watchCounts(
	ctx: SseContext,
	registry: ConnectionRegistry,
	{ intervalMs = 100, heartbeatMs }: WatchCountsOptions = {}
): ResponseStream {
	return sseStream(
		ctx,
		(handle) =>
			new Promise<void>((resolve) => {
				let timer: Timer | undefined
				let lastSentAt = -Infinity
				const send = () => {
					timer = undefined
					lastSentAt = performance.now()
					void handle.send('counts', registry.counts())
				}
				const changed = () => {
					if (timer === undefined)
						timer = setTimeout(send, Math.max(0, lastSentAt + intervalMs - performance.now()))
				}
				const stopOpen = registry.onOpen(changed)
				const stopClose = registry.onClose(changed)
				handle.signal.addEventListener(
					'abort',
					() => {
						stopOpen()
						stopClose()
						clearTimeout(timer)
						resolve()
					},
					{ once: true }
				)
				send()
			}),
		{ heartbeatMs }
	)
}
