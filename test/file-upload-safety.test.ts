// Uploads as an attacker (or a crash) meets them: errors that name no path, what a
// killed process left behind, and files that a browser may not sniff into HTML.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { streaming, saveUpload } from '../plugins'
import { startExample, type ExampleProcess } from './support/example'
import { RawClient } from './support/raw-http'
import { startEach, until } from './support/server'

let dir: string
const running: ExampleProcess[] = []
beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'sluice-upload-safety-'))
})
afterEach(async () => {
	for (const p of running.splice(0)) await p.stop()
})
afterAll(() => rm(dir, { recursive: true, force: true }))

// The example lets only its admin overwrite a file.
const ADMIN_TOKEN = 'upload-safety-admin-token'
const example = async (env: Record<string, string> = {}) => {
	const p = await startExample('download', { env: { UPLOADS_DIR: dir, ADMIN_TOKEN, ...env } })
	running.push(p)
	return p
}
const temps = async () => (await readdir(dir)).filter((f) => f.startsWith('.upload-'))

describe('upload errors are answers, never paths', () => {
	test('overwrite onto a folder: 409 with a clear message, in production too, and nothing left behind', async () => {
		await mkdir(join(dir, 'adir'), { recursive: true })
		const app = await example({ NODE_ENV: 'production' })
		const res = await fetch(`${app.url}/upload/adir?overwrite=1`, {
			method: 'POST',
			body: 'data',
			headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
		})
		const text = await res.text()
		expect(res.status).toBe(409)
		expect(JSON.parse(text)).toEqual({ error: 'A folder of that name exists' })
		expect(text).not.toContain(dir)
		expect((await stat(join(dir, 'adir'))).isDirectory()).toBe(true)
		expect(await temps()).toEqual([])
		// Without overwrite, the name is taken like any file's.
		const plain = await fetch(`${app.url}/upload/adir`, { method: 'POST', body: 'data' })
		expect([plain.status, await plain.json()]).toEqual([409, { error: 'File already exists' }])
	})

	test('a folder that cannot be written: 500 that names no path, and the cause goes to onError', async () => {
		const reported: unknown[] = []
		const missing = join(dir, 'no', 'such', 'folder')
		const { url } = startEach()(
			new Elysia().post(
				'/up/:name',
				async ({ request, params, status }) => {
					const { status: code, ...body } = await saveUpload(request, params.name, { root: missing, onError: (e) => reported.push(e) })
					return status(code, body)
				},
				{ parse: 'none' }
			)
		)
		const res = await fetch(`${url}/up/a.txt`, { method: 'POST', body: 'data' })
		const text = await res.text()
		expect(res.status).toBe(500)
		expect(JSON.parse(text)).toEqual({ error: 'The upload could not be stored' })
		expect(text).not.toContain('/no/such')
		expect(reported).toHaveLength(1)
		expect((reported[0] as NodeJS.ErrnoException).code).toBe('ENOENT')
	})
})

test('a process killed (kill -9) mid-upload leaves a temporary file; the next start removes it', async () => {
	const first = await example()
	const client = await RawClient.request(Number(new URL(first.url).port), '/upload/crash.bin', {
		method: 'POST',
		headers: { 'content-length': String(10_000_000) }
	})
	client.socket.write(Buffer.alloc(1_000_000, 7))
	// The upload is under way: its temporary file holds bytes.
	let left: string[] = []
	const end = performance.now() + 5000
	for (;;) {
		left = await temps()
		if (left.length === 1 && (await stat(join(dir, left[0]!))).size > 0) break
		if (performance.now() > end) throw new Error(`no temporary file with bytes: ${left}`)
		await Bun.sleep(20)
	}
	expect(await first.signal('SIGKILL')).toMatchObject({ signalCode: 'SIGKILL' })
	client.destroy()
	expect(await temps()).toEqual(left)

	// Restarted in the same folder: the leftover is gone once it listens, and uploads work.
	const second = await example()
	expect(await temps()).toEqual([])
	expect(await Bun.file(join(dir, 'crash.bin')).exists()).toBe(false)
	const res = await fetch(`${second.url}/upload/after.txt`, { method: 'POST', body: 'ok' })
	expect(res.status).toBe(201)
}, 20_000)

test('an upload in progress in another live process is never taken for a leftover', async () => {
	const writer = await example()
	const client = await RawClient.request(Number(new URL(writer.url).port), '/upload/live.bin', {
		method: 'POST',
		headers: { 'content-length': '1000' }
	})
	client.socket.write('x'.repeat(100))
	let live: string[] = []
	const end = performance.now() + 5000
	while ((live = await temps()).length !== 1) {
		if (performance.now() > end) throw new Error('no temporary file')
		await Bun.sleep(20)
	}
	// A second process starts on the same folder (as a cluster's would) and cleans up.
	await example()
	expect(await temps()).toEqual(live)
	client.socket.write('y'.repeat(900))
	await client.waitFor((c) => c.body.includes('}'))
	expect(client.status).toBe(201)
	expect((await stat(join(dir, 'live.bin'))).size).toBe(1000)
	client.destroy()
}, 20_000)

test('served files carry X-Content-Type-Options: nosniff, an uploaded HTML file included', async () => {
	await Bun.write(join(dir, 'x.html'), '<script>alert(1)</script>')
	const { url } = startEach()(new Elysia().use(streaming({ file: { root: dir } })).get('/f/:name', ({ file, params }) => file(params.name)))
	for (const init of [{}, { headers: { range: 'bytes=0-3' } }, { method: 'HEAD' }, { headers: { range: 'bytes=0-1,4-5' } }]) {
		const res = await fetch(`${url}/f/x.html`, init)
		expect([res.status, res.headers.get('x-content-type-options')]).toEqual([res.status, 'nosniff'])
		await res.arrayBuffer()
	}
	const res = await fetch(`${url}/f/x.html`)
	expect(res.headers.get('content-type')).toStartWith('text/html')
})
