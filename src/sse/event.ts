import { SluiceError } from '../errors'

/** One Server-Sent Events frame, before encoding. */
export interface SseEvent {
	/** Event name (`event:` field). Must not contain CR, LF or NUL. Omitted or empty means `message`. */
	event?: string
	/** Event id (`id:` field). Must not contain CR, LF or NUL. An empty string is sent and resets the client's last id. */
	id?: string | number
	/** Reconnection delay hint in milliseconds (`retry:` field). A non-negative integer. */
	retry?: number
	/**
	 * Payload. A string is sent as is (split into one `data:` line per line);
	 * anything else is sent as JSON. `undefined` sends no data line.
	 */
	data?: unknown
	/** A comment (`:` lines), ignored by clients; split on line breaks like data. */
	comment?: string
}

/** Thrown when an event cannot be encoded safely; `field` names the offending field. */
export class SseFieldError extends SluiceError {
	constructor(
		readonly field: 'event' | 'id' | 'retry' | 'data',
		message: string
	) {
		super('SSE_FIELD_INVALID', `sse ${field}: ${message}`)
		this.name = 'SseFieldError'
	}
}
