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

const LF = 10
const CR = 13

/**
 * Splits a byte stream into lines as it arrives, never holding more than one
 * unfinished line (at most `maxLineBytes`) plus the current chunk. Yields each
 * line's bytes (without CR/LF) with its 1-based number, blank lines included,
 * so that numbers match what the sender counts. A last line without `\n` counts.
 */
export async function* splitLines(
	chunks: AsyncIterable<Uint8Array>,
	maxLineBytes: number
): AsyncGenerator<{ bytes: Uint8Array; line: number }> {
	let carry: Uint8Array | undefined
	let line = 0
	for await (const chunk of chunks) {
		let start = 0
		let end = chunk.indexOf(LF)
		if (carry) {
			const head = end === -1 ? chunk : chunk.subarray(0, end)
			if (carry.byteLength + head.byteLength > maxLineBytes + 1) throw new LineTooLongError(line + 1, maxLineBytes)
			const joined = new Uint8Array(carry.byteLength + head.byteLength)
			joined.set(carry)
			joined.set(head, carry.byteLength)
			if (end === -1) {
				carry = joined
				continue
			}
			carry = undefined
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
			// +1: the CR of a CRLF may still be in the carry.
			if (chunk.byteLength - start > maxLineBytes + 1) throw new LineTooLongError(line + 1, maxLineBytes)
			carry = chunk.slice(start)
		}
	}
	if (carry && carry.byteLength) yield { bytes: trimCr(carry, maxLineBytes, ++line), line }
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

/** Iterates a ReadableStream's chunks, cancelling it when the iteration stops early. */
export async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
	const reader = body.getReader()
	let done = false
	try {
		for (;;) {
			const r = await reader.read()
			if (r.done) {
				done = true
				return
			}
			yield r.value
		}
	} finally {
		if (!done) await reader.cancel().catch(() => {})
		reader.releaseLock()
	}
}
