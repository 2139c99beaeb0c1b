import { encodeComment, encodeSse, type SseContext, type SseOptions } from '../sse'
import { ResponseStream } from '../stream'
import type { Hub } from './hub'
import type { TopicsOptions } from './topics-subscription'

/** Options of one subscription: the hub's, plus its SSE response's (`maxTopics` applies to a stream of many topics). */
export interface SubscriptionOptions extends TopicsOptions, Omit<SseOptions, 'exposeErrors'> {}

/**
 * Opens the SSE response of one subscriber of `topic`. There is no producer to
 * run: the hub writes frames to the stream. It opens with a frame at once, so
 * the client sees the 200 before the first broadcast.
 */
export function subscriptionStream(
	ctx: SseContext,
	hub: Hub,
	topic: string | readonly string[],
	options: SubscriptionOptions = {}
): ResponseStream {
	const stream = new ResponseStream({
		request: ctx.request,
		server: ctx.server,
		contentType: 'text/event-stream; charset=utf-8',
		heartbeatMs: options.heartbeatMs,
		headers: options.headers,
		status: options.status
	})
	// A stream of many topics names its connection: the id an app's route changes its topics by.
	if (typeof topic !== 'string') stream.response.headers.set('sluice-connection', String(stream.id))
	ctx.onOpen?.(stream)
	stream.write(options.retryMs === undefined ? encodeComment() : encodeSse({ retry: options.retryMs }))
	try {
		hub.subscribe(stream, topic as string, options, ctx.request)
	} catch (error) {
		stream.write(encodeSse({ event: 'error', data: { message: 'subscription failed' } }))
		stream.close('error')
		ctx.onError?.(error)
	}
	return stream
}
