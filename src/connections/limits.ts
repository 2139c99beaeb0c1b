import { streamingHeaders } from '../stream/headers'

/** Limits on open streams, checked before a stream opens. */
export interface ConnectionLimits {
	/** Most streams open at once; past it a new stream is refused with 503. @default Infinity */
	maxStreams?: number
	/** Most streams open at once from one client address (unknown addresses are not limited); past it, 429. @default Infinity */
	maxPerAddress?: number
	/** Seconds sent in `Retry-After` with a refusal. @default 5 */
	retryAfterSeconds?: number
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
	limits: ConnectionLimits,
	state: { draining: boolean; total: number; fromAddress: number }
): Refusal | undefined {
	const { maxStreams = Infinity, maxPerAddress = Infinity, retryAfterSeconds = 5 } = limits
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
 * body that says why. While draining, a kind that has a farewell (SSE) gets it
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
			headers: { 'retry-after': String(refusal.retryAfterSeconds), 'cache-control': 'no-store' }
		}
	)
}
