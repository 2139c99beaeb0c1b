import { SluiceError } from '../errors'

/** Why a typed SSE reader stopped with an error. */
export type SseClientErrorKind = 'status' | 'content-type' | 'remote' | 'decode'

const codes = {
	status: 'SSE_CLIENT_STATUS',
	'content-type': 'SSE_CLIENT_CONTENT_TYPE',
	remote: 'SSE_CLIENT_REMOTE',
	decode: 'SSE_CLIENT_DECODE'
} as const

/**
 * Thrown out of a `for await` over an SSE reader when it stops for good:
 * a non-2xx status or a wrong content type (as EventSource stops), an
 * `event: error` frame from a Sluice server, or data that does not decode.
 */
export class SseClientError extends SluiceError {
	constructor(
		readonly kind: SseClientErrorKind,
		message: string,
		/** The HTTP status, for 'status' and 'content-type'. */
		override readonly status?: number
	) {
		super(codes[kind], message)
		this.name = 'SseClientError'
	}
}
