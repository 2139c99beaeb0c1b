import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { saveUpload } from '../plugins'
import { listen, type TestServer } from './support/server'

let dir: string
let server: TestServer
const SIZE = 256 * 1024 * 1024

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'sluice-upload-'))
	server = listen(
		new Elysia({ serve: { maxRequestBodySize: 1024 * 1024 * 1024 } }).post(
			'/upload/:name',
			async ({ request, params, status }) => {
				const { status: code, ...body } = await saveUpload(request, params.name, { root: dir, maxBytes: SIZE })
				return status(code, body)
			},
			{ parse: 'none' }
		)
	)
})
afterAll(async () => {
	await server.stop()
	await rm(dir, { recursive: true, force: true })
})

test('a 256 MB upload is written to disk chunk by chunk: memory stays far below its size', async () => {
	Bun.gc(true)
	const before = process.memoryUsage().rss
	let peak = before
	const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
	let left = SIZE
	const body = new ReadableStream<Uint8Array>({
		pull(c) {
			if (left <= 0) return c.close()
			const n = Math.min(256 * 1024, left)
			left -= n
			c.enqueue(new Uint8Array(n).fill(9))
		}
	})
	const res = await fetch(`${server.url}/upload/big.bin`, { method: 'POST', body })
	clearInterval(sampler)
	expect(res.status).toBe(201)
	expect((await stat(join(dir, 'big.bin'))).size).toBe(SIZE)
	// Buffered whole, the body alone would add 256 MB (client and server share this process).
	expect(peak - before).toBeLessThan(96 * 1024 * 1024)
}, 30_000)
