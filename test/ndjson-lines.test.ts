import { describe, expect, test } from 'bun:test'
import { LineTooLongError, splitLines } from '../src/ndjson'
import { lineCopies } from '../src/ndjson/lines'

const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', { fatal: true })

async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
	let at = 0
	// Each chunk is its own buffer, as a body stream delivers them.
	for (const cut of [...cuts, bytes.byteLength]) {
		yield bytes.slice(at, cut)
		at = cut
	}
}
const everyN = (size: number, n: number) => Array.from({ length: Math.ceil(size / n) - 1 }, (_, i) => (i + 1) * n)

async function lines(chunks: AsyncIterable<Uint8Array>, max = 1 << 20) {
	const out: { text: string; line: number }[] = []
	for await (const { bytes, line } of splitLines(chunks, max)) out.push({ text: dec.decode(bytes), line })
	return out
}

describe('splitLines', () => {
	test('a 1 MB line in 500-byte chunks copies each byte a bounded number of times, not once per chunk', async () => {
		const line = enc.encode(JSON.stringify('x'.repeat(1_000_000 - 2)) + '\n')
		lineCopies.bytes = 0
		const [one] = await lines(chunked(line, everyN(line.byteLength, 500)), 2_000_000)
		expect(one!.text.length).toBe(1_000_000)
		// Copying the growing line for each of the 2,000 chunks would be ~1,000 MB.
		expect(lineCopies.bytes).toBeLessThanOrEqual(3 * line.byteLength)
		lineCopies.bytes = 0
		await lines(chunked(line, []), 2_000_000)
		expect(lineCopies.bytes).toBeLessThanOrEqual(line.byteLength)
	})

	test('lines split at every position, multi-byte UTF-8 and CRLF across chunks, come out whole and numbered', async () => {
		const text = '{"a":"€ü𝄞"}\r\n\n[1,2]\r\n  \n"日本語"\r\n{"b":"\\r\\n"}\n"last"'
		const bytes = enc.encode(text)
		const expected = text.split('\n').map((l, i) => ({ text: l.endsWith('\r') ? l.slice(0, -1) : l, line: i + 1 }))
		expect(await lines(chunked(bytes, []))).toEqual(expected)
		for (let cut = 1; cut < bytes.byteLength; cut++) expect(await lines(chunked(bytes, [cut]))).toEqual(expected)
		for (let a = 1; a < bytes.byteLength; a += 3)
			for (let b = a + 1; b < bytes.byteLength; b += 2) expect(await lines(chunked(bytes, [a, b]))).toEqual(expected)
		// Every byte its own chunk.
		expect(await lines(chunked(bytes, everyN(bytes.byteLength, 1)))).toEqual(expected)
	})

	test('the limit is exact whatever the chunking: a line of max bytes (CR not counted) passes, max + 1 is a 413 for that line', async () => {
		const max = 1000
		const fits = enc.encode('1\n' + 'y'.repeat(max) + '\r\n2\n')
		const over = enc.encode('1\n' + 'y'.repeat(max + 1) + '\n2\n')
		for (const size of [1, 7, 500, 999, 1000, 1001, 1002, 5000]) {
			expect((await lines(chunked(fits, everyN(fits.byteLength, size)), max)).map((l) => l.text.length)).toEqual([1, max, 1])
			const error = await lines(chunked(over, everyN(over.byteLength, size)), max).catch((e) => e)
			expect([size, error instanceof LineTooLongError, error.line]).toEqual([size, true, 2])
		}
	})

	test('an endless line fails as soon as it passes the limit, not at its end', async () => {
		let pulled = 0
		async function* endless() {
			for (;;) {
				pulled++
				yield enc.encode('z'.repeat(100))
			}
		}
		const error = await lines(endless(), 1000).catch((e) => e)
		expect(error).toBeInstanceOf(LineTooLongError)
		expect(pulled).toBeLessThanOrEqual(11)
	})
})
