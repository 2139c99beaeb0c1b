/** One byte range, both ends included (as in Content-Range). */
export interface ByteRange {
	start: number
	end: number
}

/** What a Range header asks of a file of a given size. */
export type RangeRequest =
	/** no Range, or one to ignore (malformed, another unit, too many parts): send the whole file */
	| { kind: 'full' }
	/** nothing in it overlaps the file: 416 with `Content-Range: bytes *\/size` */
	| { kind: 'unsatisfiable' }
	/** sorted, overlapping and adjacent ranges merged */
	| { kind: 'ranges'; ranges: ByteRange[] }

const FULL = { kind: 'full' } as const
const SPEC = /^(\d*)-(\d*)$/

/**
 * Parses a Range header against a file of `size` bytes (RFC 9110 §14.1.2).
 * A header that does not parse, names another unit, holds a range whose last
 * byte comes before its first, or has more than `maxRanges` parts is ignored,
 * as the RFC allows: the client gets the whole file, never an error.
 */
export function parseRange(header: string | null, size: number, maxRanges = 100): RangeRequest {
	if (header === null) return FULL
	const eq = header.indexOf('=')
	if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return FULL
	const specs = header.slice(eq + 1).split(',')
	if (specs.length > maxRanges) return FULL
	// An empty file has no byte to send; a range on it is answered with the (empty) whole.
	if (size === 0) return FULL
	const ranges: ByteRange[] = []
	let parsed = 0
	for (const raw of specs) {
		const spec = raw.trim()
		// A list may hold empty elements (`bytes=0-1, ,5-6`), RFC 9110 §5.6.1.
		if (spec === '') continue
		const m = SPEC.exec(spec)
		if (!m) return FULL
		const [, first, last] = m as unknown as [string, string, string]
		parsed++
		if (first === '') {
			if (last === '') return FULL
			const suffix = Number(last)
			if (suffix > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 })
			continue
		}
		const start = Number(first)
		if (last !== '' && Number(last) < start) return FULL
		if (start < size) ranges.push({ start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) })
	}
	if (parsed === 0) return FULL
	if (ranges.length === 0) return { kind: 'unsatisfiable' }
	return { kind: 'ranges', ranges: coalesce(ranges) }
}

/** Sorts ranges and merges those that overlap or touch. */
function coalesce(ranges: ByteRange[]): ByteRange[] {
	ranges.sort((a, b) => a.start - b.start)
	const merged: ByteRange[] = [{ ...ranges[0]! }]
	for (const r of ranges.slice(1)) {
		const last = merged[merged.length - 1]!
		if (r.start <= last.end + 1) last.end = Math.max(last.end, r.end)
		else merged.push({ ...r })
	}
	return merged
}
