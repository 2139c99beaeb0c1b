import type { Frame } from './transport'

/**
 * A frame as a stream of many topics sends it: a `topic:` field (SSE parsers
 * ignore fields they do not know; sluice/client reads it as `m.topic`), the
 * frame's event and data lines, and then, written per stream, `id: <cursor>`
 * and the blank line. The shared part is made once per frame, lazily, however
 * many streams of many topics carry it; single-topic streams never make it.
 */
const variants = new WeakMap<Frame, Uint8Array>()
const utf8 = new TextEncoder()
const NL = 10

/** The frame's bytes without its id line and its closing blank line, after a `topic:` line. */
export function topicVariant(frame: Frame): Uint8Array {
	let variant = variants.get(frame)
	if (variant) return variant
	const bytes = frame.bytes
	const start = bytes.indexOf(NL) + 1 // past `id: <n>\n`
	const head = utf8.encode(`topic: ${frame.topic}\n`)
	const body = bytes.subarray(start, bytes.byteLength - 1) // the final LF is the id's to add
	variant = new Uint8Array(head.byteLength + body.byteLength)
	variant.set(head)
	variant.set(body, head.byteLength)
	variants.set(frame, variant)
	return variant
}

/** Writes `id: <cursor>\n\n` (the cursor is ASCII) at `at`; returns the end. */
export function writeIdTail(out: Uint8Array, at: number, cursor: string): number {
	out[at++] = 105 // i
	out[at++] = 100 // d
	out[at++] = 58 // :
	out[at++] = 32
	for (let i = 0; i < cursor.length; i++) out[at++] = cursor.charCodeAt(i)
	out[at++] = NL
	out[at++] = NL
	return at
}

/** Bytes of the tail writeIdTail writes. */
export const idTailLength = (cursor: string) => cursor.length + 6
