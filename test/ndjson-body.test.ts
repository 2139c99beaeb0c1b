import { describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { streaming } from '../plugins'
import { RawClient } from './support/raw-http'
import { startEach } from './support/server'

const start = startEach()
const linesOf = (text: string) => text.split('\n').slice(0, -1).map((l) => JSON.parse(l))
const post = (url: string, body: string, contentType = 'application/x-ndjson') =>
	fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body })

/** Opens a POST whose body the test writes chunk by chunk (chunked transfer encoding). */
async function openUpload(port: number, path: string) {
	const client = await RawClient.request(port, path, {
		method: 'POST',
		headers: { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' }
	})
	const send = (text: string) => client.socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`)
	const end = () => client.socket.write('0\r\n\r\n')
	return { client, send, end }
}

const Item = t.Object({ id: t.Integer(), value: t.Number() })

const app = () =>
	new Elysia()
		.use(streaming())
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
		.post('/double', ({ ndjson, ndjsonBody }) =>
			ndjson(async function* () {
				for await (const item of ndjsonBody(Item)) yield { id: item.id, doubled: item.value * 2 }
				yield { done: true }
			})
		)
		.post('/json', ({ body }) => ({ got: body }))
		.post('/small', async ({ ndjsonBody }) => {
			let count = 0
			for await (const _ of ndjsonBody(undefined, { maxLineBytes: 64 })) count++
			return { count }
		})

describe('ndjsonBody()', () => {
	test('records are read as they arrive: each result is sent before the next line is uploaded', async () => {
		const { port } = start(app())
		const { client, send, end } = await openUpload(port, '/double')
		for (let id = 0; id < 5; id++) {
			// Half a line, then the rest: lines split across chunks are joined.
			send(`{"id":${id},`)
			send(`"value":${id + 0.5}}\n`)
			await client.waitFor((c) => c.body.includes(`{"id":${id},"doubled":${2 * id + 1}}\n`))
		}
		end()
		await client.waitFor((c) => c.body.endsWith('{"done":true}\n'))
		expect(linesOf(client.body)).toHaveLength(6)
		client.destroy()
	})

	test('a valid body, CRLF and blank lines included, is read whole by a handler that needs it all', async () => {
		const { url } = start(app())
		const body = Array.from({ length: 10_000 }, (_, id) => JSON.stringify({ id, value: 1 })).join('\r\n') + '\n\n'
		const res = await post(`${url}/sum`, body)
		expect(res.status).toBe(200)
		expect(await res.json()).toEqual({ count: 10_000, sum: 10_000 })
	})

	test('a line that is not JSON is a 400 naming the line', async () => {
		const { url } = start(app())
		const res = await post(`${url}/sum`, '{"id":1,"value":1}\n{"id":2,"value":2}\n{"id":3,value:3}\n{"id":4,"value":4}\n')
		expect(res.status).toBe(400)
		const body = (await res.json()) as { error: string; line: number }
		expect(body.line).toBe(3)
		expect(body.error).toStartWith('line 3: not valid JSON')
	})

	test('a record that fails the schema is a 400 naming the line and the field', async () => {
		const { url } = start(app())
		const res = await post(`${url}/sum`, '{"id":1,"value":1}\n\n{"id":1.5,"value":2}\n')
		expect(res.status).toBe(400)
		expect(await res.json()).toEqual({ error: 'line 3: /id: Expected string or Expected integer', line: 3 })
	})

	test('a line over the default 1 MiB limit is a 413, answered before the body ends', async () => {
		const { port, url } = start(app())
		const exact = JSON.stringify({ id: 1, value: 1, pad: 'p'.repeat(2 ** 20 - 27) })
		expect(Buffer.byteLength(exact)).toBe(2 ** 20)
		const ok = await post(`${url}/sum`, exact + '\n')
		expect(await ok.json()).toEqual({ count: 1, sum: 1 })
		// A line that never ends: the 413 comes once it passes 1 MiB, while the upload is still open.
		const { client, send } = await openUpload(port, '/sum')
		send('{"id":1,"value":1}\n')
		send('{"pad":"')
		const piece = 'q'.repeat(64 * 1024)
		for (let i = 0; i < 17 && !client.head; i++) {
			send(piece)
			await Bun.sleep(2)
		}
		await client.waitFor((c) => c.body.includes('}'))
		expect(client.status).toBe(413)
		expect(JSON.parse(client.body)).toEqual({ error: 'line 2 is longer than 1048576 bytes', line: 2 })
		client.destroy()
	})

	test('the limit is an option', async () => {
		const { url } = start(app())
		expect(await (await post(`${url}/small`, `${JSON.stringify('x'.repeat(62))}\n`)).json()).toEqual({ count: 1 })
		const res = await post(`${url}/small`, `1\n${JSON.stringify('x'.repeat(63))}\n`)
		expect(res.status).toBe(413)
		expect(((await res.json()) as { line: number }).line).toBe(2)
	})

	test('a bad line found after the response started ends it with an error line naming the line', async () => {
		const { url } = start(app())
		const res = await post(`${url}/double`, '{"id":1,"value":1}\n{"id":2,"value":"two"}\n{"id":3,"value":3}\n')
		expect(res.status).toBe(200)
		expect(linesOf(await res.text())).toEqual([
			{ id: 1, doubled: 2 },
			{ error: 'line 2: /value: Expected number', records: 1, status: 400, line: 2 }
		])
	})

	test('application/jsonl is read too; a body Elysia already parsed is a clear 415', async () => {
		const { url } = start(app())
		expect(await (await post(`${url}/sum`, '{"id":1,"value":5}\n', 'application/jsonl')).json()).toEqual({ count: 1, sum: 5 })
		const res = await post(`${url}/sum`, '{"id":1,"value":5}\n', 'application/json')
		expect(res.status).toBe(415)
		expect(((await res.json()) as { error: string }).error).toContain('application/x-ndjson')
	})

	test("other bodies are still Elysia's to parse", async () => {
		const { url } = start(app())
		const res = await post(`${url}/json`, '{"a":[1,2]}', 'application/json')
		expect(await res.json()).toEqual({ got: { a: [1, 2] } })
		expect(await (await post(`${url}/json`, 'plain', 'text/plain')).json()).toEqual({ got: 'plain' })
		// The content type is matched whatever its case.
		expect(await (await post(`${url}/sum`, '{"id":1,"value":2}\n', 'Application/X-NDJSON; charset=utf-8')).json()).toEqual({ count: 1, sum: 2 })
	})
})
