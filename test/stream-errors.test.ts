import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { streaming } from '../plugins'
import { streamFile } from '../src/file'
import { startEach, until } from './support/server'

const start = startEach()

// console.error swapped for a recorder: what reaches the log, in this process.
let logged: unknown[][] = []
const original = console.error
beforeEach(() => {
	logged = []
	console.error = (...args: unknown[]) => void logged.push(args)
})
afterEach(() => {
	console.error = original
})
const logText = () => logged.map((args) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '))

/** Routes whose streams fail after their 200 went out: sse, ndjson, subscribe. */
const failing = (app: Elysia) =>
	app
		.use(streaming())
		.get('/sse/:room', ({ sse }) =>
			sse(async function* () {
				yield { data: 'first' }
				throw new Error('sse broke')
			})
		)
		.post('/ndjson', ({ ndjson }) =>
			ndjson(async function* () {
				yield { n: 1 }
				throw new Error('ndjson broke')
			})
		)
		.get('/closed-hub', async ({ broadcast, subscribe }) => {
			await broadcast.close()
			return subscribe('room')
		})
		.post('/lines', ({ ndjson, ndjsonBody }) =>
			ndjson(async function* () {
				for await (const r of ndjsonBody()) yield r
			})
		)

async function failAll(url: string) {
	expect(await (await fetch(`${url}/sse/lobby`)).text()).toContain('event: error')
	expect(await (await fetch(`${url}/ndjson`, { method: 'POST' })).text()).toContain('"error":"ndjson broke"')
	expect(await (await fetch(`${url}/closed-hub`)).text()).toContain('subscription failed')
}

describe('an error thrown inside a stream', () => {
	test('with no error hook on the app, it reaches console.error with the method and route', async () => {
		const { url } = start(failing(new Elysia()))
		await failAll(url)
		await until(() => logged.length >= 3, 2000, 'three errors logged')
		const text = logText()
		expect(text.find((l) => l.includes('sse broke'))).toContain('GET /sse/:room')
		expect(text.find((l) => l.includes('ndjson broke'))).toContain('POST /ndjson')
		expect(text.find((l) => l.includes('hub is closed'))).toContain('GET /closed-hub')
		expect(logged).toHaveLength(3)
	})

	test("with error hooks, it goes to the app's hooks and not to the console", async () => {
		const seen: string[] = []
		const app = new Elysia().onError(({ error, path }) => {
			seen.push(`${path}: ${(error as Error).message}`)
		})
		const { url } = start(failing(app))
		await failAll(url)
		await until(() => seen.length >= 3, 2000, 'three errors in the hook')
		expect(seen.sort()).toEqual(['/closed-hub: broadcast: the hub is closed', '/ndjson: ndjson broke', '/sse/lobby: sse broke'])
		expect(logged).toEqual([])
	})

	test("a bad request body is the client's mistake: answered in the stream, never logged", async () => {
		const { url } = start(failing(new Elysia()))
		const res = await fetch(`${url}/lines`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '1\n{oops\n' })
		expect(await res.text()).toContain('"status":400')
		await Bun.sleep(50)
		expect(logged).toEqual([])
	})
})

test('a file stream that fails mid-way reports the error to its context', async () => {
	const dir = await mkdtemp(join(tmpdir(), 'sluice-stream-errors-'))
	try {
		const errors: unknown[] = []
		// A directory opens for reading but fails at the first read (EISDIR).
		const stream = streamFile(
			{ request: new Request('http://x/f'), onError: (e) => errors.push(e) },
			dir,
			[{ start: 0, end: 99 }],
			{ status: 200, contentType: 'application/octet-stream', headers: {} }
		)
		await until(() => errors.length === 1, 2000, 'the error')
		expect(stream.closeReason).toBe('error')
		expect((errors[0] as NodeJS.ErrnoException).code).toBe('EISDIR')
	} finally {
		await rm(dir, { recursive: true, force: true })
	}
})
