/** Why a typed SSE reader stopped with an error. */
export type SseClientErrorKind = 'status' | 'content-type' | 'remote' | 'decode'

/**
 * Thrown out of a `for await` over an SSE reader when it stops for good:
 * a non-2xx status or a wrong content type (as EventSource stops), an
 * `event: error` frame from a Sluice server, or data that does not decode.
 */
export class SseClientError extends Error {
	constructor(
		readonly kind: SseClientErrorKind,
		message: string,
		/** The HTTP status, for 'status' and 'content-type'. */
		readonly status?: number
	) {
		super(message)
		this.name = 'SseClientError'
	}
}
