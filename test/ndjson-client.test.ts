import { describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { treaty } from '@elysiajs/eden'
import { streaming } from '../plugins'
import { readNdjsonRecords, fetchNdjson, edenNdjson, NdjsonStreamError } from '../src/client'
import { startEach, until } from './support/server'

const start = startEach()
const deferred = () => {
	let resolve!: () => void
	const promise = new Promise<void>((r) => (resolve = r))
	return { promise, resolve }
}

interface Tick {
	count: number
	label: string
}

// One app for the client tests: its routes' record types are what Eden sees.
let gates = [deferred(), deferred(), deferred()]
let finallyRan = false
const app = new Elysia()
	.use(streaming())
	.onError(() => {})
	.get('/ticks', ({ ndjson }) =>
		ndjson(async function* () {
			for (let count = 0; count < 3; count++) {
				yield { count, label: `tick ${count}` } satisfies Tick
				await gates[count]!.promise
			}
		})
	)
	.get('/endless', ({ ndjson }) =>
		ndjson(async function* ({ sleep }) {
			try {
				for (let count = 0; ; count++) {
					yield { count }
					await sleep(5)
				}
			} finally {
				finallyRan = true
			}
		})
	)
	.get('/fails', ({ ndjson }) =>
		ndjson(async function* () {
			yield { error: 'a record may have an error field', records: 7 }
			yield { fine: true }
			throw new Error('upstream went away')
		})
	)
	.post('/echo', ({ ndjson, ndjsonBody }) =>
		ndjson(async function* () {
			for await (const r of ndjsonBody(t.Object({ n: t.Number() }))) yield { n: r.n, square: r.n * r.n }
		})
	)
	.get('/plain', () => ({ plain: true }))
	.post('/strict', async ({ ndjsonBody }) => {
		for await (const _ of ndjsonBody(t.Object({ n: t.Number() }))) {
		}
		return 'ok'
	})

const server = () => {
	const s = start(app)
	gates = [deferred(), deferred(), deferred()]
	finallyRan = false
	return s
}

describe('readNdjsonRecords (sluice/client)', () => {
	test('yields each record as it arrives, typed', async () => {
		const { url } = server()
		const seen: Tick[] = []
		for await (const tick of readNdjsonRecords<Tick>(await fetch(`${url}/ticks`))) {
			const count: number = tick.count
			seen.push(tick)
			// The server makes the next record only after this one was read here.
			gates[count]!.resolve()
		}
		expect(seen).toEqual([0, 1, 2].map((count) => ({ count, label: `tick ${count}` })))
	})

	test("the server's error line is thrown after the records before it; a record with an error field is not mistaken for it", async () => {
		const { url } = server()
		const seen: unknown[] = []
		let error: NdjsonStreamError | undefined
		try {
			for await (const r of readNdjsonRecords(await fetch(`${url}/fails`))) seen.push(r)
		} catch (e) {
			error = e as NdjsonStreamError
		}
		expect(seen).toEqual([{ error: 'a record may have an error field', records: 7 }, { fine: true }])
		expect(error).toBeInstanceOf(NdjsonStreamError)
		expect(error!.message).toBe('upstream went away')
		expect(error!.records).toBe(2)
	})

	test('an HTTP error is thrown with its status and the line it names', async () => {
		const { url } = server()
		const res = await fetch(`${url}/strict`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"n":1}\n{"n":"x"}\n' })
		let error: NdjsonStreamError | undefined
		try {
			for await (const _ of readNdjsonRecords(res)) {
			}
		} catch (e) {
			error = e as NdjsonStreamError
		}
		expect([error?.status, error?.line, error?.message]).toEqual([400, 2, 'line 2: /n: Expected number'])
	})

	test('fetchNdjson: breaking out of the loop ends the request and stops the producer', async () => {
		const { url } = server()
		const seen: number[] = []
		for await (const r of fetchNdjson<{ count: number }>(`${url}/endless`)) {
			seen.push(r.count)
			if (seen.length === 3) break
		}
		expect(seen).toEqual([0, 1, 2])
		await until(() => finallyRan, 1000, "the producer's finally")
	})
})

describe('Eden treaty with edenNdjson()', () => {
	test("a route's record type reaches treaty, and records arrive as they are made", async () => {
		const { url } = server()
		const api = treaty<typeof app>(url, edenNdjson())
		const { data, error } = await api.ticks.get()
		expect(error).toBeNull()
		const seen: Tick[] = []
		for await (const tick of data!) {
			// Typed from the handler: count is a number, label a string.
			const count: number = tick.count
			const label: string = tick.label
			// @ts-expect-error: no such field on the route's records
			tick.missing
			seen.push({ count, label })
			gates[count]!.resolve()
		}
		expect(seen.map((s) => s.count)).toEqual([0, 1, 2])
	})

	test('a POST with an NDJSON body, records typed from the handler', async () => {
		const { url } = server()
		const api = treaty<typeof app>(url, edenNdjson())
		const body = '{"n":2}\n{"n":3}\n'
		const { data } = await api.echo.post(body as never, { headers: { 'content-type': 'application/x-ndjson' } })
		const squares: number[] = []
		for await (const r of data!) squares.push(r.square)
		expect(squares).toEqual([4, 9])
	})

	test('routes that are not NDJSON are read as Eden reads them', async () => {
		const { url } = server()
		const api = treaty<typeof app>(url, edenNdjson())
		const { data } = await api.plain.get()
		const plain: boolean = data!.plain
		expect(plain).toBe(true)
	})
})
