import { streamingHeaders } from '../stream/headers'
import { descriptorLimit, streamLimitFor } from './descriptor-limit'

/** Limits on open streams, checked before a stream opens. 0 or Infinity turns a limit off. */
export interface ConnectionLimits {
	/**
	 * Most streams open at once; past it a new stream is refused with 503. The
	 * default keeps the process below its descriptor limit, so that a stream
	 * past it is refused instead of left hanging at accept.
	 * @default floor((open-file limit - 64) / 2), see descriptorLimit()
	 */
	maxStreams?: number
	/**
	 * Most streams open at once from one client address (unknown addresses are
	 * not limited); past it, 429. Behind a proxy, set `trustProxy`, or every
	 * client shares the proxy's address.
	 * @default 100
	 */
	maxPerAddress?: number
	/** Seconds sent in `Retry-After` with a refusal. @default 5 */
	retryAfterSeconds?: number
}

/** The limits in force: every field set, Infinity where a limit is off. */
export type ResolvedLimits = Required<ConnectionLimits>

/** Streams one client address may hold open by default. */
export const DEFAULT_MAX_PER_ADDRESS = 100

/** The limits in force for `limits`: defaults filled in, 0 read as off; a clear error for a nonsense value. */
export function resolveLimits(limits: ConnectionLimits = {}): ResolvedLimits {
	const { maxStreams = streamLimitFor(descriptorLimit()), maxPerAddress = DEFAULT_MAX_PER_ADDRESS } = limits
	const { retryAfterSeconds = 5 } = limits
	const limit = (name: string, value: number) => {
		if (!(value >= 0)) throw new RangeError(`connections.${name} must be a number >= 0 (0 or Infinity: no limit), got ${value}`)
		return value === 0 ? Infinity : value
	}
	if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0)
		throw new RangeError(`connections.retryAfterSeconds must be a whole number >= 0, got ${retryAfterSeconds}`)
	return {
		maxStreams: limit('maxStreams', maxStreams),
		maxPerAddress: limit('maxPerAddress', maxPerAddress),
		retryAfterSeconds
	}
}

/** Why a stream was not let in. */
export interface Refusal {
	status: 503 | 429
	reason: 'draining' | 'max-streams' | 'max-per-address'
	message: string
	retryAfterSeconds: number
	/** While draining, the last frame a stream of this kind gets, sent as a 200 that ends (see refusalResponse). */
	farewell?: { body: string | Uint8Array; contentType: string }
}

/** Decides whether one more stream may open, given what is open now. */
export function checkAdmission(
	limits: ResolvedLimits,
	state: { draining: boolean; total: number; fromAddress: number }
): Refusal | undefined {
	const { maxStreams, maxPerAddress, retryAfterSeconds } = limits
	if (state.draining)
		return { status: 503, reason: 'draining', message: 'server is shutting down', retryAfterSeconds }
	if (state.total >= maxStreams)
		return {
			status: 503,
			reason: 'max-streams',
			message: `too many open streams (limit ${maxStreams})`,
			retryAfterSeconds
		}
	if (state.fromAddress >= maxPerAddress)
		return {
			status: 429,
			reason: 'max-per-address',
			message: `too many open streams from this address (limit ${maxPerAddress})`,
			retryAfterSeconds
		}
	return undefined
}

/**
 * The HTTP answer to a refused stream: 503 or 429, `Retry-After`, and a JSON
 * body that says why; the connection is closed after it, so that a refused
 * client holds no descriptor (at the descriptor limit, that is what lets the
 * next one in to be told). While draining, a kind that has a farewell (SSE) gets it
 * as a 200 that ends at once instead: a browser's EventSource never retries
 * after a 503, but does after the farewell's `retry:`.
 */
export function refusalResponse(refusal: Refusal): Response {
	if (refusal.farewell)
		return new Response(refusal.farewell.body, {
			headers: { 'content-type': refusal.farewell.contentType, ...streamingHeaders }
		})
	return Response.json(
		{ error: refusal.message, reason: refusal.reason, retryAfter: refusal.retryAfterSeconds },
		{
			status: refusal.status,
			headers: {
				'retry-after': String(refusal.retryAfterSeconds),
				'cache-control': 'no-store',
				connection: 'close'
			}
		}
	)
}
