import { describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { encodeNdjson, NdjsonEncodeError, readNdjson, NdjsonBodyError } from '../src/ndjson'

const enc = new TextEncoder()
/** A body stream that delivers `parts` as separate chunks (strings as UTF-8, or raw bytes). */
const bodyOf = (...parts: (string | Uint8Array)[]) =>
	new ReadableStream<Uint8Array>({
		start(c) {
			for (const p of parts) c.enqueue(typeof p === 'string' ? enc.encode(p) : p)
			c.close()
		}
	})
const collect = async <T>(it: AsyncIterable<T>) => {
	const out: T[] = []
	for await (const x of it) out.push(x)
	return out
}
const failure = async (it: AsyncIterable<unknown>) => {
	try {
		await collect(it)
	} catch (error) {
		return error as NdjsonBodyError
	}
	throw new Error('expected the read to fail')
}

describe('encodeNdjson', () => {
	test('one JSON text per line; newlines inside strings stay escaped', () => {
		expect(encodeNdjson({ a: 'x\ny\r\nz\u2028' })).toBe('{"a":"x\\ny\\r\\nz\u2028"}\n')
		expect(encodeNdjson(null)).toBe('null\n')
		expect(encodeNdjson(0)).toBe('0\n')
		expect(encodeNdjson(false)).toBe('false\n')
		expect(encodeNdjson('')).toBe('""\n')
	})
	test('refuses values JSON cannot represent instead of dropping them', () => {
		expect(() => encodeNdjson(undefined)).toThrow(NdjsonEncodeError)
		expect(() => encodeNdjson(() => 1)).toThrow(NdjsonEncodeError)
		expect(() => encodeNdjson(1n)).toThrow(TypeError)
	})
})

describe('readNdjson', () => {
	test('lines split across chunks, a multi-byte character split across chunks, CRLF, blank lines, no final newline', async () => {
		const euro = enc.encode('{"s":"€"}\n') // € is 3 bytes
		const records = await collect(
			readNdjson(bodyOf('{"a":', '1}\r\n\n  \n[1,2', ']\n', euro.subarray(0, 7), euro.subarray(7), '"last"'))
		)
		expect(records).toEqual([{ a: 1 }, [1, 2], { s: '€' }, 'last'])
	})

	test('many records in one chunk, each value kind', async () => {
		const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ i, s: `r${i}` }))
		const records = await collect(readNdjson(bodyOf(lines.join('\n') + '\n0\nnull\ntrue\n')))
		expect(records.length).toBe(1003)
		expect(records[999]).toEqual({ i: 999, s: 'r999' })
		expect(records.slice(1000)).toEqual([0, null, true])
	})

	test('a line that is not JSON is a 400 naming its line (blank lines counted)', async () => {
		const error = await failure(readNdjson(bodyOf('{"a":1}\n\n{"a":2}\n{"a":\n{"a":4}\n')))
		expect(error).toBeInstanceOf(NdjsonBodyError)
		expect(error.status).toBe(400)
		expect(error.line).toBe(4)
		expect(error.message).toStartWith('line 4: not valid JSON')
	})

	test('a line that is not UTF-8 is a 400 naming its line', async () => {
		const error = await failure(readNdjson(bodyOf('1\n', new Uint8Array([0x22, 0xff, 0x22, 0x0a]))))
		expect([error.status, error.line]).toEqual([400, 2])
	})

	test('a record that fails the schema is a 400 naming the line and the field', async () => {
		const schema = Type.Object({ id: Type.Integer(), name: Type.String() })
		const ok = await collect(readNdjson(bodyOf('{"id":1,"name":"a"}\n'), { schema }))
		expect(ok).toEqual([{ id: 1, name: 'a' }])
		const error = await failure(readNdjson(bodyOf('{"id":1,"name":"a"}\n{"id":2,"name":3}\n'), { schema }))
		expect([error.status, error.line]).toEqual([400, 2])
		expect(error.message).toBe('line 2: /name: Expected string')
	})

	test('a line over the limit is a 413, found before the line ends, and the rest of the body is not read', async () => {
		let pulls = 0
		const body = new ReadableStream<Uint8Array>({
			pull(c) {
				pulls++
				c.enqueue(enc.encode(pulls === 1 ? '{"ok":1}\n"' : 'x'.repeat(100)))
			}
		})
		const records: unknown[] = []
		let error: NdjsonBodyError | undefined
		try {
			for await (const r of readNdjson(body, { maxLineBytes: 1000 })) records.push(r)
		} catch (e) {
			error = e as NdjsonBodyError
		}
		expect(records).toEqual([{ ok: 1 }])
		expect([error?.status, error?.line]).toEqual([413, 2])
		// The endless line was given up on just past the limit, not read on.
		expect(pulls).toBeLessThan(15)
	})

	test('a line of exactly the limit passes, CR not counted; one byte more is a 413', async () => {
		const line = JSON.stringify('x'.repeat(98)) // 100 bytes
		expect(await collect(readNdjson(bodyOf(line + '\r\n'), { maxLineBytes: 100 }))).toEqual(['x'.repeat(98)])
		expect(await collect(readNdjson(bodyOf(line.slice(0, 60), line.slice(60)), { maxLineBytes: 100 }))).toHaveLength(1)
		const error = await failure(readNdjson(bodyOf(JSON.stringify('x'.repeat(99)) + '\n'), { maxLineBytes: 100 }))
		expect([error.status, error.line]).toEqual([413, 1])
	})

	test('no body is no records; a body already read is a clear 415', async () => {
		expect(await collect(readNdjson(null))).toEqual([])
		const body = bodyOf('1\n')
		body.getReader()
		expect((await failure(readNdjson(body))).status).toBe(415)
	})

	test('stopping early cancels the body', async () => {
		let cancelled = false
		const body = new ReadableStream<Uint8Array>({
			pull: (c) => c.enqueue(enc.encode('1\n2\n')),
			cancel: () => {
				cancelled = true
			}
		})
		for await (const _ of readNdjson(body)) break
		expect(cancelled).toBe(true)
	})
})
