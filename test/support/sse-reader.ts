import { createParser, type EventSourceMessage } from 'eventsource-parser'

/** An SSE response read with fetch and parsed by eventsource-parser (the oracle). */
export interface SseReader {
	events: EventSourceMessage[]
	/** Heartbeat comments seen. */
	comments: number
	/** Set once the response ends (or fails). */
	ended: boolean
	status: number
	close(): void
}

/** Opens `url` as an SSE stream (with Last-Event-ID when given) and collects its events. */
export async function readSse(
	url: string,
	{ lastEventId, headers: extra }: { lastEventId?: string; headers?: Record<string, string> } = {}
): Promise<SseReader> {
	const abort = new AbortController()
	const headers: Record<string, string> = { accept: 'text/event-stream', ...extra }
	if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
	const response = await fetch(url, { headers, signal: abort.signal })
	const reader: SseReader = {
		events: [],
		comments: 0,
		ended: false,
		status: response.status,
		close: () => abort.abort()
	}
	const parser = createParser({
		onEvent: (event) => reader.events.push(event),
		onComment: () => reader.comments++
	})
	;(async () => {
		const decoder = new TextDecoder()
		try {
			const body = response.body!.getReader()
			for (;;) {
				const { value, done } = await body.read()
				if (done) break
				parser.feed(decoder.decode(value, { stream: true }))
			}
		} catch {}
		reader.ended = true
	})()
	return reader
}
