import { OptionError } from '../errors'

/**
 * Who a stream is for, and until when: the options sse(), ndjson(), file(),
 * stream() and subscribe() take. Sluice does not decide who may open a stream
 * (the app's guard does, e.g. with @elysiajs/jwt); it keeps what the guard
 * decided for as long as the stream lives.
 */
export interface StreamIdentity {
	/**
	 * The user the stream belongs to (an id, not a secret): counted and listed by
	 * it (`counts().byUser`), closable with `connections.close({ user })`,
	 * passed to presence events.
	 */
	user?: string
	/**
	 * When access ends (a Date or epoch milliseconds), e.g. the token's `exp`: the
	 * stream ends then with a last frame (SSE: `event: sluice:expired` with a
	 * `retry:` hint; NDJSON: an `{"error":"expired"}` line), so the client comes
	 * back with fresh credentials and resumes from its Last-Event-ID.
	 */
	expiresAt?: Date | number
}

/** The longest `user` accepted: it is a key of counts and control messages, not a payload. */
export const MAX_USER_LENGTH = 256

/** Checks a stream's identity options: the user and the expiry (as epoch ms) it is registered with. */
export function identityOf({ user, expiresAt }: StreamIdentity): { user?: string; expiresAt?: number } {
	if (user !== undefined && (typeof user !== 'string' || user.length === 0 || user.length > MAX_USER_LENGTH))
		throw new OptionError(`user must be a string of 1 to ${MAX_USER_LENGTH} characters`)
	if (expiresAt === undefined) return { user }
	const at = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt
	if (typeof at !== 'number' || !Number.isFinite(at))
		throw new OptionError(`expiresAt must be a Date or epoch milliseconds (got ${String(expiresAt)})`)
	return { user, expiresAt: at }
}
