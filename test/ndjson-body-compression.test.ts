import { describe, expect, test } from 'bun:test'
import zlib from 'node:zlib'
import { Elysia, t } from 'elysia'
import { streaming } from '../plugins'
import { RawClient } from './support/raw-http'
import { startEach } from './support/server'
import { CODINGS, encodeWhole } from './support/compressed'

const start = startEach()
const Item = t.Object({ id: t.Integer(), value: t.Number() })
const body = (n: number) => Array.from({ length: n }, (_, id) => JSON.stringify({ id, value: id % 7 }) + '\n').join('')
const sumOf = (n: number) => Array.from({ length: n }, (_, id) => id % 7).reduce((a, b) => a + b, 0)

const app = (options: { maxBodyBytes?: number } = {}) =>
	new Elysia()
		.use(streaming({ ndjson: options }))
		.onError(() => {})
		.post('/sum', async ({ ndjsonBody }) => {
			let count = 0
			let sum = 0
			for await (const item of ndjsonBody(Item)) {
				count++
				sum += item.value
			}
			return { count, sum }
		})
		.post('/count', async ({ ndjsonBody }) => {
			let count = 0
			for await (const _ of ndjsonBody()) count++
			return { count }
		})
		.post('/echo', ({ ndjson, ndjsonBody }) => ndjson(ndjsonBody(Item)))

const postRaw = (url: string, bytes: Uint8Array, encoding: string) =>
	fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': encoding }, body: bytes })

/** A compressed bomb made by streaming `piece` through the compressor until `total` bytes: never whole in memory. */
async function bomb(z: zlib.Gzip | zlib.ZstdCompress, piece: Buffer, total: number): Promise<Buffer> {
	const out: Buffer[] = []
	z.on('data', (d: Buffer) => out.push(d))
	for (let n = 0; n < total; n += piece.length) if (!z.write(piece)) await new Promise((r) => z.once('drain', r))
	await new Promise((r) => z.end(r))
	return Buffer.concat(out)
}

describe('ndjsonBody() with a compressed request body', () => {
	test.each([...CODINGS, 'x-gzip'] as const)('Content-Encoding: %s is decoded and read line by line', async (coding) => {
		const { url } = start(app())
		const bytes = encodeWhole(coding === 'x-gzip' ? 'gzip' : coding, body(10_000))
		const res = await postRaw(`${url}/sum`, bytes, coding)
		expect(res.status).toBe(200)
		expect(await res.json()).toEqual({ count: 10_000, sum: sumOf(10_000) })
	})

	test('a gzip body is read as it arrives: the first record is answered before the body ends', async () => {
		const { port } = start(app())
		const client = await RawClient.request(port, '/echo', {
			method: 'POST',
			headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' }
		})
		const gz = zlib.createGzip()
		gz.on('data', (d: Buffer) => client.socket.write(Buffer.concat([Buffer.from(`${d.length.toString(16)}\r\n`), d, Buffer.from('\r\n')])))
		gz.write('{"id":1,"value":2}\n')
		gz.flush()
		await client.waitFor((c) => c.body.includes('{"id":1,"value":2}\n'))
		gz.once('end', () => client.socket.write('0\r\n\r\n'))
		gz.end('{"id":2,"value":3}\n')
		await client.waitFor((c) => c.body === '{"id":1,"value":2}\n{"id":2,"value":3}\n')
	})

	test('an unknown or stacked Content-Encoding is a 415; bytes that do not decode are a 400', async () => {
		const { url } = start(app())
		for (const encoding of ['deflate', 'compress', 'gzip, br', 'snappy']) {
			const res = await postRaw(`${url}/sum`, new TextEncoder().encode(body(2)), encoding)
			expect(res.status).toBe(415)
			expect(((await res.json()) as { error: string }).error).toContain('Content-Encoding')
		}
		const identity = await postRaw(`${url}/sum`, new TextEncoder().encode(body(2)), 'identity')
		expect(await identity.json()).toEqual({ count: 2, sum: 1 })
		const garbage = await postRaw(`${url}/sum`, new TextEncoder().encode(body(2)), 'gzip')
		expect(garbage.status).toBe(400)
		expect(((await garbage.json()) as { error: string }).error).toContain('not valid gzip')
		const cut = encodeWhole('gzip', body(1000)).subarray(0, 500)
		expect((await postRaw(`${url}/sum`, cut, 'gzip')).status).toBe(400)
	})

	test('a bomb of 1 GB of zeros gzipped is a 413 at once, with memory bounded', async () => {
		const wire = await bomb(zlib.createGzip({ level: 9 }), Buffer.alloc(1 << 20), 1 << 30)
		expect(wire.length).toBeLessThan(2 << 20)
		const { url } = start(app())
		const rss = process.memoryUsage().rss
		const res = await postRaw(`${url}/sum`, wire, 'gzip')
		expect(res.status).toBe(413)
		expect(((await res.json()) as { error: string }).error).toContain('line 1')
		expect(process.memoryUsage().rss - rss).toBeLessThan(200 << 20)
	})

	test('a bomb of 1 GB of tiny records (zstd) stops at maxBodyBytes with a 413, having decoded no more', async () => {
		const wire = await bomb(zlib.createZstdCompress(), Buffer.from('{}\n'.repeat(1 << 18)), 1 << 30)
		expect(wire.length).toBeLessThan(1 << 20)
		let records = 0
		const limit = 4 << 20
		const { url } = start(
			new Elysia()
				.use(streaming({ ndjson: { maxBodyBytes: limit } }))
				.onError(() => {})
				.post('/count', async ({ ndjsonBody }) => {
					for await (const _ of ndjsonBody()) records++
					return { records }
				})
		)
		const rss = process.memoryUsage().rss
		const res = await postRaw(`${url}/count`, wire, 'zstd')
		expect(res.status).toBe(413)
		expect(((await res.json()) as { error: string }).error).toContain(`over ${limit} bytes`)
		expect(records).toBeLessThanOrEqual(limit / 3)
		expect(records).toBeGreaterThan(limit / 3 - 100_000)
		expect(process.memoryUsage().rss - rss).toBeLessThan(200 << 20)
	})

	test('maxBodyBytes holds for a plain body too', async () => {
		const { url } = start(app({ maxBodyBytes: 1000 }))
		const res = await fetch(`${url}/count`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: body(200) })
		expect(res.status).toBe(413)
	})
})
