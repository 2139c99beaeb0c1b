// An SSE stream that reads an NDJSON request body: a bad body is the client's mistake, so its
// `event: error` frame says what was wrong (and the status) even where error messages are hidden
// (production); any other error still says only "Internal Server Error" there.
import { describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { streaming } from '../plugins'
import { parseEvents } from './hub/sse-events'
import { startEach } from './support/server'

const start = startEach()

const app = () =>
	new Elysia()
		.onError(() => {}) // the errors go to the app's hooks, not the console
		.use(streaming({ sse: { exposeErrors: false, heartbeatMs: 0 } }))
		.post('/items', ({ sse, ndjsonBody }) =>
			sse(async function* () {
				for await (const item of ndjsonBody(t.Object({ id: t.Integer() }))) yield { event: 'item', data: item }
			})
		)
		.get('/broken', ({ sse }) =>
			sse(async function* () {
				yield { event: 'item', data: 1 }
				throw new Error('secret detail of the server')
			})
		)

const errorsOf = (text: string) => parseEvents(text).filter((e) => e.event === 'error').map((e) => JSON.parse(e.data))

describe('sse() error frames', () => {
	test('a bad request body: the frame names the line and the status, with messages hidden', async () => {
		const server = start(app())
		const response = await fetch(`${server.url}/items`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-ndjson' },
			body: '{"id":1}\n{"id":"two"}\n{"id":3}\n'
		})
		const text = await response.text()
		expect(parseEvents(text).filter((e) => e.event === 'item').map((e) => JSON.parse(e.data))).toEqual([{ id: 1 }])
		const [error] = errorsOf(text)
		expect(error.status).toBe(400)
		expect(error.message).toContain('line 2')
	})

	test("the server's own error stays hidden", async () => {
		const server = start(app())
		const text = await (await fetch(`${server.url}/broken`)).text()
		expect(errorsOf(text)).toEqual([{ message: 'Internal Server Error' }])
		expect(text).not.toContain('secret detail')
	})
})
