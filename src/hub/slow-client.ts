import { encodeSseBytes, jitteredRetry } from '../sse'
import type { ResponseStream } from '../stream'
import { HubEvents } from './hub-events'

/** @internal True when the bytes in `stream` and `waiting` behind it pass `limit`: the slow-consumer policy applies. */
export const overLimit = (stream: ResponseStream, waiting: number, limit: number): boolean => stream.unsentBytes + waiting > limit

/** @internal Sent before the next frames when drop-oldest let `count` go. */
export const droppedNotice = (count: number): Uint8Array => encodeSseBytes({ event: HubEvents.dropped, data: { count } })

/** @internal Ends a slow consumer's stream with its last frame: a retry hint, so it resumes from history. */
export function cutSlowConsumer(stream: ResponseStream, retryMs: number, retryJitter: number, limit: number): void {
	stream.write(
		encodeSseBytes({
			event: HubEvents.slowConsumer,
			retry: jitteredRetry(retryMs, retryJitter),
			data: { reason: 'slow consumer', limitBytes: limit } // wire data: its name stays
		})
	)
	stream.close('slow')
}
