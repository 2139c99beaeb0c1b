/** A content coding Sluice can produce and read (RFC 9110 §8.4.1, RFC 8878, RFC 7932). */
export type Encoding = 'zstd' | 'br' | 'gzip'

/**
 * The server's preference, used to break ties between codings the client
 * accepts equally (RFC 9110 lets the server choose). zstd first: at its default
 * level it compresses JSON lines about as small as brotli while costing the
 * least CPU of the three; brotli next: smaller than gzip on text at a moderate
 * quality; gzip last: every client reads it.
 */
export const SERVER_PREFERENCE: readonly Encoding[] = ['zstd', 'br', 'gzip']

/** q-values per coding as a client stated them; `*` is kept under its own name. */
type Weights = Map<string, number>

// `x-gzip` is gzip (RFC 9110 §8.4.1.3).
const canonical = (coding: string) => (coding === 'x-gzip' ? 'gzip' : coding)

/**
 * Parses an Accept-Encoding value into q-values. A member that does not parse
 * (a bad q, an empty name) is skipped, never the whole header: a client's typo
 * costs it one coding, not compression.
 */
function weightsOf(header: string): Weights {
	const weights: Weights = new Map()
	for (const member of header.split(',')) {
		const [name, ...params] = member.split(';')
		const coding = canonical(name!.trim().toLowerCase())
		if (!coding || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(coding)) continue
		let q = 1
		let ok = true
		for (const param of params) {
			const [key, value] = param.split('=').map((s) => s.trim().toLowerCase())
			if (key !== 'q') continue
			// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
			if (value === undefined || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value)) ok = false
			else q = Number(value)
		}
		// The highest q wins when a coding is listed twice.
		if (ok) weights.set(coding, Math.max(q, weights.get(coding) ?? 0))
	}
	return weights
}

/**
 * Picks the response's content coding from a request's Accept-Encoding
 * (RFC 9110 §12.5.3) among `offered`, in the server's order of preference:
 * the highest q wins, ties go to the earlier in `offered`. `*` stands for every
 * coding the header does not name. Answers 'identity' (no compression) when the
 * header is absent (curl and many tools send none and could not decode),
 * empty, refuses every offered coding, or prefers identity by a higher q.
 * When the header refuses identity too (`identity;q=0` or `*;q=0`) and accepts
 * nothing offered, the answer is still 'identity': RFC 9110 §12.1 lets a server
 * disregard the header rather than send 406, and a body the client may reject
 * is more useful than an error page it cannot read either.
 */
export function negotiateEncoding(
	header: string | null,
	offered: readonly Encoding[] = SERVER_PREFERENCE
): Encoding | 'identity' {
	if (header === null || offered.length === 0) return 'identity'
	const weights = weightsOf(header)
	const star = weights.get('*')
	let best: Encoding | undefined
	let bestQ = 0
	for (const coding of offered) {
		const q = weights.get(coding) ?? star ?? 0
		if (q > bestQ) {
			best = coding
			bestQ = q
		}
	}
	if (!best) return 'identity'
	// Identity competes only when named: unnamed, it is acceptable but not preferred.
	const identity = weights.get('identity')
	return identity !== undefined && identity > bestQ ? 'identity' : best
}
