import { createParser, type EventSourceMessage } from 'eventsource-parser'

/** What a reader keeps across reconnects: the last id seen and the server's retry hint. */
export interface StreamState {
	lastEventId?: string
	retry?: number
}

/** An event as read: on a stream of many topics, with the topic its `topic:` field names. */
export type TopicMessage = EventSourceMessage & { topic?: string }

type Entry = { id: string } | { message: TopicMessage }

/**
 * The events of one SSE body, parsed with eventsource-parser. `state.lastEventId`
 * moves only when an event is handed out (or an id-only block passes), so a
 * consumer that stops early reconnects from the last event it actually saw.
 * Returning early cancels the body, which closes the request.
 */
export async function* readFrames(
	body: ReadableStream<Uint8Array>,
	state: StreamState,
	/** Checked before each event: once true, nothing more is handed out or recorded. */
	stopped: () => boolean = () => false
): AsyncGenerator<TopicMessage, void, undefined> {
	const queue: Entry[] = []
	// A stream of many topics marks each event with a `topic:` field, a field SSE parsers skip.
	let topic: string | undefined
	const parser = createParser({
		onId: (id) => queue.push({ id }),
		onEvent: (message) => {
			if (topic !== undefined) (message as TopicMessage).topic = topic
			topic = undefined
			queue.push({ message })
		},
		onRetry: (ms) => (state.retry = ms),
		onError: (error) => {
			if (error.type === 'unknown-field' && error.field === 'topic') topic = error.value
		}
	})
	const reader = body.getReader()
	const decoder = new TextDecoder()
	let done = false
	try {
		for (;;) {
			const chunk = await reader.read()
			if (chunk.done) break
			parser.feed(decoder.decode(chunk.value, { stream: true }))
			for (let i = 0; i < queue.length; i++) {
				if (stopped()) return
				const entry = queue[i]!
				if ('id' in entry) state.lastEventId = entry.id
				else yield entry.message
			}
			queue.length = 0
		}
		done = true
	} finally {
		// Leaving early (break, return, throw, close) cancels the body: the request closes.
		if (!done) reader.cancel().catch(() => {})
		reader.releaseLock()
	}
}
