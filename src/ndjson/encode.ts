import { SluiceError } from '../errors'

/** A value JSON cannot represent (undefined, a function, a symbol) was given as a record. */
export class NdjsonEncodeError extends SluiceError {
	constructor(value: unknown) {
		super('NDJSON_RECORD_INVALID', `an NDJSON record must be a JSON value; got ${typeof value}`)
		this.name = 'NdjsonEncodeError'
	}
}

/**
 * Encodes one record as a JSON text and its `\n`. JSON.stringify escapes CR and
 * LF inside strings, so a record can never span two lines.
 */
export function encodeNdjson(value: unknown): string {
	const text = JSON.stringify(value)
	// undefined, functions and symbols stringify to undefined: refuse rather than drop them.
	if (text === undefined) throw new NdjsonEncodeError(value)
	return text + '\n'
}
