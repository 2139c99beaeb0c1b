import { SluiceError } from '../errors'

/** A line longer than the limit: the caller answers 413 (server) or fails the read (client). */
export class LineTooLongError extends SluiceError {
	constructor(
		readonly line: number,
		readonly limit: number
	) {
		super('LINE_TOO_LONG', `line ${line} is longer than ${limit} bytes`)
		this.name = 'LineTooLongError'
	}
}

export { chunksOf } from '../stream/request-body'

/** @internal bytes splitLines has copied, for tests (not exported from the package). */
export const lineCopies = { bytes: 0 }

const LF = 10
const CR = 13

/**
 * Splits a byte stream into lines as it arrives, never holding more than one
 * unfinished line (at most `maxLineBytes`) plus the current chunk. Yields each
 * line's bytes (without CR/LF) with its 1-based number, blank lines included,
 * so that numbers match what the sender counts. A last line without `\n` counts.
 * A line that spans chunks is kept as its pieces and joined once, at its end:
 * the work is linear in the bytes received, whatever the chunk sizes.
 */
export async function* splitLines(
	chunks: AsyncIterable<Uint8Array>,
	maxLineBytes: number
): AsyncGenerator<{ bytes: Uint8Array; line: number }> {
	let pieces: Uint8Array[] = []
	let pending = 0
	let line = 0
	for await (const chunk of chunks) {
		let start = 0
		let end = chunk.indexOf(LF)
		if (pending > 0 && end !== -1) {
			const head = chunk.subarray(0, end)
			if (pending + head.byteLength > maxLineBytes + 1) throw new LineTooLongError(line + 1, maxLineBytes)
			const joined = join(pieces, pending, head)
			pieces = []
			pending = 0
			yield { bytes: trimCr(joined, maxLineBytes, ++line), line }
			start = end + 1
			end = chunk.indexOf(LF, start)
		}
		while (end !== -1) {
			yield { bytes: trimCr(chunk.subarray(start, end), maxLineBytes, ++line), line }
			start = end + 1
			end = chunk.indexOf(LF, start)
		}
		if (start < chunk.byteLength) {
			// +1: the CR of a CRLF may still be in the pieces.
			if (pending + chunk.byteLength - start > maxLineBytes + 1) throw new LineTooLongError(line + 1, maxLineBytes)
			// A copy: the source may reuse its buffer once the next chunk is asked for.
			const piece = chunk.slice(start)
			lineCopies.bytes += piece.byteLength
			pieces.push(piece)
			pending += piece.byteLength
		}
	}
	if (pending > 0) yield { bytes: trimCr(join(pieces, pending), maxLineBytes, ++line), line }
}

/** The pieces of a line and its last part, in one buffer (the piece itself when it is alone). */
function join(pieces: Uint8Array[], pending: number, tail?: Uint8Array): Uint8Array {
	if (pieces.length === 1 && !tail?.byteLength) return pieces[0]!
	const joined = new Uint8Array(pending + (tail?.byteLength ?? 0))
	let at = 0
	for (const piece of pieces) {
		joined.set(piece, at)
		at += piece.byteLength
	}
	if (tail) joined.set(tail, at)
	lineCopies.bytes += joined.byteLength
	return joined
}

function trimCr(bytes: Uint8Array, max: number, line: number): Uint8Array {
	const body = bytes.byteLength && bytes[bytes.byteLength - 1] === CR ? bytes.subarray(0, -1) : bytes
	if (body.byteLength > max) throw new LineTooLongError(line, max)
	return body
}

/** True for a line of only spaces and tabs (skipped: NDJSON readers may ignore blank lines). */
export function isBlank(bytes: Uint8Array): boolean {
	for (let i = 0; i < bytes.byteLength; i++) if (bytes[i] !== 32 && bytes[i] !== 9) return false
	return true
}
