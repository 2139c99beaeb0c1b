import type { EventSourceMessage } from 'eventsource-parser'
import type { EventCodec } from '../events/codec'
import { SseClientError } from './errors'

/** A message to skip: an event the registry does not know. */
export const SKIP = Symbol('skip')

/** Turns one parsed event into its value: by the registry when given, raw text otherwise. */
export type Decoder = (message: EventSourceMessage & { topic?: string }) => { event: string; data: unknown; id?: string; topic?: string } | typeof SKIP

/**
 * The decoder of a reader. With a registry, each event's data is decoded as
 * the server encoded it (raw text for string-only schemas, JSON otherwise) and
 * events it does not know are skipped. Without one, data is the raw text.
 * With `validate`, decoded data is also checked against the schema: the
 * registry must be one that checks (`events()` of `sluice` or
 * `sluice/client/validate`; it compiles checkers, which needs eval).
 * An unregistered `event: error` (what a Sluice server sends when its producer
 * fails) is thrown as an SseClientError.
 */
export function decoderFor(events?: EventCodec<any>, validate = false): Decoder {
	const checker = events as (EventCodec<any> & { check?(event: string, data: unknown): void }) | undefined
	if (validate && checker && typeof checker.check !== 'function')
		throw new TypeError("validate: true needs a registry that checks: make it with events() from 'sluice/client/validate'")
	return (message) => {
		const event = message.event ?? 'message'
		const id = message.id
		if (events?.has(event)) {
			let data: unknown
			try {
				data = events.decode(event, message.data)
			} catch (error) {
				throw new SseClientError('decode', `sse event "${event}": data is not JSON: ${(error as Error).message}`)
			}
			if (validate) {
				try {
					checker!.check!(event, data)
				} catch (error) {
					throw new SseClientError('decode', (error as Error).message)
				}
			}
			return withTopic(id === undefined ? { event, data } : { event, data, id }, message.topic)
		}
		if (event === 'error') throw new SseClientError('remote', remoteMessage(message.data))
		if (events) return SKIP
		return withTopic(id === undefined ? { event, data: message.data } : { event, data: message.data, id }, message.topic)
	}
}

/** A decoded event with its topic, on a stream of many topics. */
function withTopic<T extends object>(decoded: T, topic: string | undefined): T & { topic?: string } {
	if (topic !== undefined) (decoded as T & { topic?: string }).topic = topic
	return decoded
}

function remoteMessage(data: string): string {
	try {
		const parsed = JSON.parse(data)
		if (parsed && typeof parsed.message === 'string') return `server error: ${parsed.message}`
	} catch {}
	return `server error: ${data}`
}
