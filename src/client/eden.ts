import type { EventCodec } from '../events/codec'
import { decoderFor, SKIP, type Decoder } from './decode'
import { readFrames } from './frames'

/** The events of one SSE response, decoded; leaving early cancels the request. */
export async function* readEvents(response: Response, decode: Decoder) {
	if (!response.body) return
	for await (const message of readFrames(response.body, {})) {
		const decoded = decode(message)
		if (decoded !== SKIP) yield decoded
	}
}

const isEventStream = (response: Response) =>
	response.ok && (response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream')

/** Options of edenSse(). */
export interface EdenSseOptions {
	/** The server's event registry: data is decoded as it was sent. Without it, data is the raw text. */
	events?: EventCodec<any>
	/** Check each decoded value against the registry (see ConnectOptions.validate). @default false */
	validate?: boolean
	/** The fetch under it. @default globalThis.fetch */
	fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
}

/**
 * Eden treaty config that reads sse() routes right. Eden's own SSE parser
 * turns "42" into 42 and dates into Date, keeps only the last `data:` line and
 * does not cancel the request on `break`; with this, `data` of an SSE call is
 * an async generator of exactly what the server sent, typed by the route, and
 * leaving a `for await` early closes the request. Other responses are left to Eden.
 *
 * @example
 * const api = treaty<typeof app>('localhost:3000', edenSse({ events: feed }))
 * const { data } = await api.ticks.get()
 * for await (const m of data!) if (m.event === 'tick') console.log(m.data.n)
 */
export function edenSse(options: EdenSseOptions = {}) {
	const decode = decoderFor(options.events, options.validate)
	const streams = new WeakSet<Response>()
	const fetcher = async (input: string | URL | Request, init?: RequestInit) => {
		const response = await (options.fetch ?? globalThis.fetch)(input, init)
		if (isEventStream(response)) {
			streams.add(response)
			// Eden hands onResponse a clone; a clone of a stream tees it and buffers the
			// unread half for as long as the stream lives. Hand over the response itself.
			Object.defineProperty(response, 'clone', { value: () => response })
		}
		return response
	}
	return {
		fetcher: fetcher as typeof fetch,
		onResponse: (response: Response) => (streams.has(response) ? readEvents(response, decode) : undefined)
	}
}
