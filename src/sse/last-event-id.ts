// Browsers preflight a Last-Event-ID over 128 bytes or with unusual bytes, so ids we accept stay short.
const MAX_ID_LENGTH = 256
const unsafe = /[\0\r\n]/

/**
 * The id the client last saw: the `Last-Event-ID` header, or the `lastEventId`
 * query parameter that EventSource polyfills use. A malformed value is ignored.
 */
export function lastEventIdOf(request: Request): string | undefined {
	let id = request.headers.get('last-event-id') ?? undefined
	if (id === undefined) {
		const q = request.url.indexOf('?')
		if (q !== -1) id = new URLSearchParams(request.url.slice(q + 1)).get('lastEventId') ?? undefined
	}
	if (id === undefined || id.length > MAX_ID_LENGTH || unsafe.test(id)) return undefined
	return id
}

const DECIMAL = /^\d{1,16}$/

/**
 * The number in an event id, when it is one a counter could have sent: decimal
 * digits only, a safe integer (no sign, fraction, exponent, `NaN`, `Infinity`
 * or blank). Anything else is undefined, so a resumed counter never becomes
 * NaN, Infinity or a rounded neighbour.
 *
 * @example
 * let next = (eventIdNumber(stream.lastEventId) ?? -1) + 1
 */
export function eventIdNumber(id: string | undefined): number | undefined {
	if (id === undefined || !DECIMAL.test(id)) return undefined
	const n = Number(id)
	return Number.isSafeInteger(n) ? n : undefined
}
