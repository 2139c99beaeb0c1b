// Request bodies that stop sending: ndjsonBody() and saveUpload() answer 408 after
// bodyTimeoutMs of silence and let the connection go; a slow body that keeps sending is read whole.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { streaming, saveUpload } from '../plugins'
import { BodyTimeoutError, chunksOf } from '../src/stream/request-body'
import { RawClient } from './support/raw-http'
import { startEach, until } from './support/server'

const start = startEach()
const TIMEOUT = 300

/** A POST whose body the test writes piece by piece: chunked, or with a Content-Length. */
async function openBody(port: number, path: string, headers: Record<string, string> = { 'transfer-encoding': 'chunked' }) {
	const client = await RawClient.request(port, path, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...headers } })
	const chunked = headers['transfer-encoding'] === 'chunked'
	const send = (text: string) => client.socket.write(chunked ? `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n` : text)
	const end = () => chunked && client.socket.write('0\r\n\r\n')
	return { client, send, end, openedAt: performance.now() }
}

const ndjsonApp = () => {
	const app = new Elysia()
		.use(streaming({ ndjson: { bodyTimeoutMs: TIMEOUT } }))
		.post('/echo', ({ ndjson, ndjsonBody }) =>
			ndjson(async function* () {
				for await (const record of ndjsonBody()) yield record
			})
		)
		.post('/count', async ({ ndjsonBody }) => {
			let count = 0
			for await (const _ of ndjsonBody()) count++
			return { count }
		})
		.post('/patient', async ({ ndjsonBody }) => {
			let bytes = 0
			for await (const r of ndjsonBody(undefined, { bodyTimeoutMs: 1000 })) bytes += JSON.stringify(r).length
			return { bytes }
		})
	return app
}

describe('ndjsonBody(): a body that stops sending', () => {
	test('under a streaming response: the stream ends with the error line, status 408, and the connection and its registration go', async () => {
		const app = ndjsonApp()
		const { port } = start(app)
		const { client, send, openedAt } = await openBody(port, '/echo')
		send('{"id":1}\n{"id":')
		await client.waitFor((c) => c.body.includes('"status":408'), 5000)
		const answeredAt = performance.now()
		expect(client.status).toBe(200)
		const lines = client.body.trim().split('\n').map((l) => JSON.parse(l))
		expect(lines).toEqual([{ id: 1 }, { error: `the request body sent nothing for ${TIMEOUT} ms`, records: 1, status: 408 }])
		// Not before the timeout (a lower bound holds on a busy machine).
		expect(answeredAt - openedAt).toBeGreaterThanOrEqual(TIMEOUT - 20)
		await until(() => app.decorator.connections.count === 0, 1000, 'the registration to go')
		// The unread rest of the body does not hold the connection (Bun's 4-second idle tick).
		await until(() => client.closed, 10_000, 'the connection to close')
	}, 15_000)

	test('under a plain response: 408 with Connection: close, and the connection closed', async () => {
		const { port } = start(ndjsonApp())
		const { client, send, openedAt } = await openBody(port, '/count', { 'content-length': '100' })
		send('{"id":')
		await client.waitFor((c) => c.body.includes('}'), 5000)
		expect(performance.now() - openedAt).toBeGreaterThanOrEqual(TIMEOUT - 20)
		expect(client.status).toBe(408)
		expect(client.head.toLowerCase()).toContain('connection: close')
		expect(JSON.parse(client.body)).toEqual({ error: `the request body sent nothing for ${TIMEOUT} ms` })
		await until(() => client.closed, 2000, 'the connection to close')
	})

	test('a slow body that keeps sending is read whole, however long it takes in all', async () => {
		const { port } = start(ndjsonApp())
		// A byte every 50 ms for 2.5 s against a 1 s timeout: 2.5 times the timeout in all, 20 times the gap.
		const body = '{"a":"' + 'x'.repeat(44) + '"}\n'
		const { client, send, end } = await openBody(port, '/patient')
		for (const ch of body) {
			send(ch)
			await Bun.sleep(50)
		}
		end()
		await client.waitFor((c) => c.body.includes('}'), 5000)
		expect(client.status).toBe(200)
		expect(JSON.parse(client.body)).toEqual({ bytes: body.length - 1 })
		client.destroy()
	}, 10_000)
})

describe('saveUpload(): a body that stops sending', () => {
	let dir: string
	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), 'sluice-upload-timeout-'))
	})
	afterAll(() => rm(dir, { recursive: true, force: true }))
	const uploadApp = (bodyTimeoutMs = TIMEOUT, serve = {}) =>
		new Elysia({ serve })
			.use(streaming({ ndjson: { bodyTimeoutMs } }))
			.post(
				'/upload/:name',
				async ({ request, params, status, server }) => {
					const { status: code, ...body } = await saveUpload(request, params.name, { root: dir, server, bodyTimeoutMs })
					return status(code, body)
				},
				{ parse: 'none' }
			)
			.post('/count', async ({ ndjsonBody }) => {
				let count = 0
				for await (const _ of ndjsonBody()) count++
				return { count }
			})
	const temps = async () => (await readdir(dir)).filter((f) => f.startsWith('.upload-'))

	test('408 after the timeout, the partial file removed, the connection let go', async () => {
		const { port } = start(uploadApp())
		const { client, send, openedAt } = await openBody(port, '/upload/silent.bin', { 'content-length': '1000000' })
		send('x'.repeat(10_000))
		await client.waitFor((c) => c.body.includes('}'), 5000)
		expect(performance.now() - openedAt).toBeGreaterThanOrEqual(TIMEOUT - 20)
		expect(client.status).toBe(408)
		expect(JSON.parse(client.body)).toEqual({ error: `The request body sent nothing for ${TIMEOUT} ms` })
		expect(await temps()).toEqual([])
		expect(await Bun.file(join(dir, 'silent.bin')).exists()).toBe(false)
		await until(() => client.closed, 10_000, 'the connection to close')
	}, 15_000)

	test('a slow upload that keeps sending is stored whole', async () => {
		const { port } = start(uploadApp(1000))
		const { client, send } = await openBody(port, '/upload/slow.bin', { 'content-length': '50' })
		for (let i = 0; i < 50; i++) {
			send('s')
			await Bun.sleep(50)
		}
		await client.waitFor((c) => c.body.includes('}'), 5000)
		expect(client.status).toBe(201)
		expect(await Bun.file(join(dir, 'slow.bin')).text()).toBe('s'.repeat(50))
		client.destroy()
	}, 10_000)

	test("the body timeout, not Bun's shorter idle timeout, decides: a 408 comes where the connection was dropped without an answer", async () => {
		// Bun's idle timeout of 1 s fires within 4 s (its tick); the body timeout is longer.
		const { port } = start(uploadApp(4500, { idleTimeout: 1 }))
		const upload = await openBody(port, '/upload/late.bin', { 'content-length': '100' })
		const lines = await openBody(port, '/count', { 'content-length': '100' })
		upload.send('u')
		lines.send('{"a":')
		await Promise.all([upload, lines].map(({ client }) => client.waitFor((c) => c.body.includes('}'), 10_000)))
		expect([upload.client.status, lines.client.status]).toEqual([408, 408])
		expect(await temps()).toEqual([])
	}, 15_000)
})

describe('chunksOf(body, idleMs)', () => {
	test('only time spent waiting on the sender counts: a consumer slower than the timeout never times the body out', async () => {
		const body = new ReadableStream<Uint8Array>({
			start(c) {
				for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array([i]))
				c.close()
			}
		})
		const got: number[] = []
		for await (const chunk of chunksOf(body, 50)) {
			got.push(chunk[0]!)
			await Bun.sleep(120) // busy elsewhere (a slow client of the response)
		}
		expect(got).toEqual([0, 1, 2, 3])
	})

	test('a read that waits past the timeout throws BodyTimeoutError and cancels the body', async () => {
		let cancelled: unknown
		const body = new ReadableStream<Uint8Array>({
			start: (c) => c.enqueue(new Uint8Array([1])),
			cancel: (reason) => {
				cancelled = reason
			}
		})
		const got: number[] = []
		const error = await (async () => {
			for await (const chunk of chunksOf(body, 100)) got.push(chunk[0]!)
		})().catch((e) => e)
		expect(got).toEqual([1])
		expect(error).toBeInstanceOf(BodyTimeoutError)
		expect(cancelled).toBeInstanceOf(BodyTimeoutError)
	})
})
