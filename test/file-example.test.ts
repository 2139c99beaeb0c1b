import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startExample, type ExampleProcess } from './support/example'

let dir: string
let example: ExampleProcess
const LIMIT = 4 * 1024 * 1024

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'sluice-uploads-'))
	example = await startExample('download', {
		env: { UPLOADS_DIR: dir, MAX_UPLOAD_BYTES: String(LIMIT), ADMIN_TOKEN: 'test-token' }
	})
})
afterAll(async () => {
	await example.stop()
	await rm(dir, { recursive: true, force: true })
})

/** A body of `size` bytes, produced in 64 KB chunks as it is read (no Content-Length). */
function streamOf(size: number, fill = 1): ReadableStream<Uint8Array> {
	let left = size
	return new ReadableStream({
		pull(c) {
			if (left <= 0) return c.close()
			const n = Math.min(65_536, left)
			left -= n
			c.enqueue(new Uint8Array(n).fill(fill))
		}
	})
}

test('prints its URL and a curl line', () => {
	expect(example.output()).toContain(`${example.url.split(':')[2]}/download/sample.txt`)
	expect(example.output()).toContain('curl')
})

test('GET /download/sample.txt: the sample file it created, as an attachment, with ranges', async () => {
	const res = await fetch(`${example.url}/download/sample.txt`)
	expect(res.status).toBe(200)
	expect(res.headers.get('content-disposition')).toBe('attachment; filename="sample.txt"')
	const text = await res.text()
	expect(text).toStartWith('Hello from Sluice!\n')
	expect(res.headers.get('content-length')).toBe(String(text.length))
	const part = await fetch(`${example.url}/download/sample.txt`, { headers: { range: 'bytes=0-4' } })
	expect(part.status).toBe(206)
	expect(await part.text()).toBe('Hello')
	const missing = await fetch(`${example.url}/download/nope.txt`)
	expect(missing.status).toBe(404)
	expect(await missing.json()).toEqual({ error: 'File not found' })
})

test('POST /upload/:filename streams the body to disk; no overwrite unless asked', async () => {
	const first = await fetch(`${example.url}/upload/data.bin`, { method: 'POST', body: streamOf(3_000_000, 1) })
	expect(first.status).toBe(201)
	expect(await first.json()).toEqual({ name: 'data.bin', bytes: 3_000_000 })
	const back = Buffer.from(await (await fetch(`${example.url}/download/data.bin`)).arrayBuffer())
	expect(back.length).toBe(3_000_000)
	expect(back.every((b) => b === 1)).toBe(true)

	const again = await fetch(`${example.url}/upload/data.bin`, { method: 'POST', body: 'other' })
	expect(again.status).toBe(409)
	expect(await again.json()).toEqual({ error: 'File already exists' })
	expect((await (await fetch(`${example.url}/download/data.bin`)).arrayBuffer()).byteLength).toBe(3_000_000)

	const replaced = await fetch(`${example.url}/upload/data.bin?overwrite=1`, {
		method: 'POST',
		body: 'other',
		headers: { authorization: 'Bearer test-token' }
	})
	expect(replaced.status).toBe(201)
	expect(await (await fetch(`${example.url}/download/data.bin`)).text()).toBe('other')
})

test('over the size limit: 413, from Content-Length at once or mid-stream, and nothing left on disk', async () => {
	const declared = await fetch(`${example.url}/upload/huge.bin`, { method: 'POST', body: new Uint8Array(LIMIT + 1) })
	expect(declared.status).toBe(413)
	const streamed = await fetch(`${example.url}/upload/huge.bin`, { method: 'POST', body: streamOf(LIMIT + 100_000) })
	expect(streamed.status).toBe(413)
	expect(await streamed.json()).toEqual({ error: `File larger than ${LIMIT} bytes` })
	const files = await readdir(dir)
	expect(files.filter((f) => f.startsWith('huge') || f.startsWith('.upload-'))).toEqual([])
})

test('upload names follow the download rules: traversal and dotfiles refused, nothing written outside', async () => {
	for (const name of ['.hidden', '..%2Fescape.txt', '%2E%2E%2Fescape.txt', 'a%5Cb.txt', 'a%00b']) {
		const res = await fetch(`${example.url}/upload/${name}`, { method: 'POST', body: 'x' })
		expect([name, res.status]).toEqual([name, 400])
	}
	expect(await Bun.file(join(dir, '..', 'escape.txt')).exists()).toBe(false)
	expect((await readdir(dir)).sort()).toEqual(['data.bin', 'sample.txt'])
})

test('GET /static/report.ndjson: the precompressed sibling the client accepts; the hints say --compressed', async () => {
	expect(example.output()).toContain('curl -OJ --compressed')
	expect(example.output()).toContain('/static/report.ndjson')
	const plain = await fetch(`${example.url}/static/report.ndjson`, { headers: { 'accept-encoding': 'identity' } })
	const text = await plain.text()
	expect(text.split('\n')).toHaveLength(10_001)
	for (const coding of ['zstd', 'br', 'gzip']) {
		const res = await fetch(`${example.url}/static/report.ndjson`, { headers: { 'accept-encoding': coding }, decompress: false })
		expect(res.headers.get('content-encoding')).toBe(coding)
		expect(res.headers.get('vary')).toBe('Accept-Encoding')
		expect(Number(res.headers.get('content-length'))).toBeLessThan(text.length * 0.2)
	}
	const decoded = await fetch(`${example.url}/static/report.ndjson`)
	expect(await decoded.text()).toBe(text)
})
