/**
 * The last line of an NDJSON response whose producer failed:
 * `{"error":"<message>","records":<records sent before it>}`, plus `status`
 * and `line` when the failure was a bad line in the request body.
 * `records` lets a reader tell this line from a record that happens to have
 * an `error` field: it must equal the number of records read before it.
 */
export interface NdjsonErrorLine {
	error: string
	records: number
	/** The HTTP status the failure would have had, had the response not started (400, 413). */
	status?: number
	/** The request body's line that caused it. */
	line?: number
}

/** True when `value` is the error line that ends a stream after `records` records. */
export function isErrorLine(value: unknown, records: number): value is NdjsonErrorLine {
	return (
		value !== null &&
		typeof value === 'object' &&
		typeof (value as NdjsonErrorLine).error === 'string' &&
		(value as NdjsonErrorLine).records === records
	)
}
