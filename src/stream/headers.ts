/** Headers every stream carries, so proxies neither buffer nor transform it. */
export const streamingHeaders = {
	'cache-control': 'no-cache, no-transform',
	'x-accel-buffering': 'no'
} as const

// Bun copies a Headers object into a Response several times faster than it reads a plain
// object's properties: the usual header sets (no extra headers) are made once per content type.
const shared = new Map<string, Headers>()
const MAX_SHARED = 32

/** The headers of a stream's response: Content-Type, the streaming headers, then `extra`. */
export function streamHeaders(contentType: string, extra?: Record<string, string>): Headers | Record<string, string> {
	if (extra) return { 'content-type': contentType, ...streamingHeaders, ...extra }
	let headers = shared.get(contentType)
	if (!headers) {
		headers = new Headers({ 'content-type': contentType, ...streamingHeaders })
		if (shared.size < MAX_SHARED) shared.set(contentType, headers)
	}
	return headers
}
