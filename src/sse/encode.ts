import { SseFieldError, type SseEvent } from './event'

// CR, LF and NUL would end the field early or be dropped by the client: refuse them in single-line fields.
const unsafeInField = /[\r\n\0]/
const lineBreak = /\r\n|\r|\n/
const hasLineBreak = /[\r\n]/

function singleLine(field: 'event' | 'id', value: string): string {
	if (unsafeInField.test(value))
		throw new SseFieldError(field, 'must not contain CR, LF or NUL')
	return value
}

function fieldLines(prefix: string, text: string): string {
	if (!hasLineBreak.test(text)) return prefix + text + '\n'
	let out = ''
	for (const line of text.split(lineBreak)) out += prefix + line + '\n'
	return out
}

function json(data: unknown): string {
	const text = JSON.stringify(data)
	if (text === undefined) throw new SseFieldError('data', `cannot be sent as JSON (${typeof data})`)
	return text
}

/** The text of `data` as it goes on the wire: strings as they are, anything else as JSON. */
export function dataText(data: unknown): string | undefined {
	if (data === undefined) return undefined
	return typeof data === 'string' ? data : json(data)
}

/** `data:` lines and the blank line; JSON.stringify never emits a raw line break, so only strings are split. */
const dataLines = (data: unknown): string =>
	typeof data === 'string'
		? hasLineBreak.test(data)
			? fieldLines('data: ', data) + '\n'
			: `data: ${data}\n\n`
		: `data: ${json(data)}\n\n`

/**
 * Encodes one event as SSE text, ending with the blank line that dispatches it.
 * Throws SseFieldError for an unsafe `event` or `id`, or a bad `retry`.
 */
export function encodeSse(event: SseEvent): string {
	const { data } = event
	// Most frames carry data alone: one concatenation, no field checks.
	if (event.event === undefined && event.id === undefined && event.retry === undefined && event.comment === undefined)
		return data === undefined ? '\n' : dataLines(data)
	let out = ''
	if (event.comment !== undefined) out += fieldLines(': ', event.comment)
	if (event.event !== undefined && event.event !== '')
		out += 'event: ' + singleLine('event', event.event) + '\n'
	if (event.id !== undefined) out += 'id: ' + singleLine('id', String(event.id)) + '\n'
	if (event.retry !== undefined) {
		if (!Number.isInteger(event.retry) || event.retry < 0)
			throw new SseFieldError('retry', 'must be a non-negative integer')
		out += 'retry: ' + event.retry + '\n'
	}
	if (data !== undefined) return out + dataLines(data)
	// A named event with no data is still dispatched, with "".
	return out + (event.event ? 'data\n\n' : '\n')
}

/** An SSE comment frame (`: text`), e.g. a heartbeat. */
export const encodeComment = (text = ''): string => fieldLines(': ', text) + '\n'

const utf8 = new TextEncoder()

/** encodeSse, as UTF-8 bytes: for frames written many times (broadcast). */
export const encodeSseBytes = (event: SseEvent): Uint8Array => utf8.encode(encodeSse(event))
