// Imports nothing: sluice/client's errors extend it without pulling server code into a bundle.

/**
 * The base of every error Sluice throws. `code` is stable across versions
 * (match on it, not on `message`); `status` is the HTTP status the error
 * answers with when a handler throws it (Elysia reads it), or, on a client,
 * the status of the response it is about. The codes: docs/errors.md.
 *
 * @example
 * try { await broadcast.publish('room', 'tick', data) } catch (error) {
 *   if (error instanceof SluiceError && error.code === 'REDIS_UNAVAILABLE') retryLater()
 * }
 */
export class SluiceError extends Error {
	/** Stable and machine-readable, e.g. 'EVENT_DATA_INVALID'. */
	readonly code: string
	/** The HTTP status, where the error maps to a response. */
	declare readonly status?: number

	constructor(code: string, message: string, options?: { status?: number; cause?: unknown }) {
		super(message, options && 'cause' in options ? { cause: options.cause } : undefined)
		this.name = 'SluiceError'
		this.code = code
		if (options?.status !== undefined) this.status = options.status
	}
}

/** An option or argument Sluice cannot work with (a negative limit, a missing root), thrown when it is given. */
export class OptionError extends SluiceError {
	constructor(message: string) {
		super('OPTION_INVALID', message)
		this.name = 'OptionError'
	}
}
