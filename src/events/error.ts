import { SluiceError } from '../errors'

/**
 * Thrown when an event is not in the registry, or its data does not match the
 * event's schema. Nothing is sent. `path` is the JSON pointer of the first
 * failing value ('' for the data itself).
 */
export class EventDataError extends SluiceError {
	constructor(
		readonly event: string,
		readonly path: string,
		readonly reason: string
	) {
		super('EVENT_DATA_INVALID', `sse event "${event}": ${path === '' ? reason : `${reason} at ${path}`}`)
		this.name = 'EventDataError'
	}
}
