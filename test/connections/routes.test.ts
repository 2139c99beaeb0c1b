import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { EventSource } from 'eventsource'
import parsePrometheus from 'parse-prometheus-text-format'
import { streaming, ResponseStream, type ConnectionsOptions, type ConnectionCounts } from '../../plugins'; import { formatMetrics } from '../../src/connections'
import { streamContext } from '../../plugins/stream-context'
import { listen, until, type TestServer } from '../support/server'
import { RawClient } from '../support/raw-http'

let server: TestServer | undefined
const clients: RawClient[] = []
const sources: EventSource[] = []
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy()
	for (const s of sources.splice(0)) s.close()
	await server?.stop()
	server = undefined
})

const SECRET = 'let-me-in'
const allRoutes: ConnectionsOptions['routes'] = {
	guard: ({ headers }) => headers['x-admin'] === SECRET,
	snapshot: '/connections',
	watch: '/connections/watch',
	metrics: '/metrics',
	watchIntervalMs: 20
}

function start(connections: ConnectionsOptions = {}) {
	const app = new Elysia()
		.use(streaming({ connections }))
		.get('/s', ({ sse }) =>
			sse(async (s) => {
				await s.send('tick', 'a', { id: 1 })
				await s.sleep(60_000)
			})
		)
		.get('/ndjson', (context) => {
			const ctx = streamContext(context, context.connections, 'ndjson')
			const stream = new ResponseStream({ request: ctx.request, contentType: 'application/x-ndjson' })
			ctx.onOpen(stream)
			stream.write('{"a":1}\n{"a":2}\n', 2)
			return stream.response
		})
	server = listen(app)
	return { registry: app.decorator.connections, port: server.port, url: server.url }
}

const admin = { headers: { 'x-admin': SECRET } }

async function open(port: number, path: string) {
	const client = await RawClient.request(port, path)
	clients.push(client)
	await client.waitFor((c) => c.status === 200)
	return client
}

describe('guarded routes', () => {
	test('routes are off unless enabled: 404', async () => {
		const { url } = start()
		for (const path of ['/connections', '/connections/watch', '/metrics'])
			expect((await fetch(url + path, admin)).status).toBe(404)
	})

	test('only the routes given are served', async () => {
		const { url } = start({ routes: { guard: () => true, metrics: '/metrics' } })
		expect((await fetch(url + '/metrics')).status).toBe(200)
		expect((await fetch(url + '/connections')).status).toBe(404)
	})

	test('the guard refuses: 403 on every route, and no stream is opened', async () => {
		const { url, registry } = start({ routes: allRoutes })
		for (const path of ['/connections', '/connections/watch', '/metrics']) {
			const response = await fetch(url + path, { headers: { 'x-admin': 'wrong' } })
			expect(response.status).toBe(403)
			expect(await response.json()).toEqual({ error: 'forbidden' })
		}
		expect(registry.opened).toBe(0)
	})

	test('an async guard is awaited', async () => {
		const { url } = start({
			routes: { guard: async ({ query }) => (await Bun.sleep(5), query.token === 't'), snapshot: '/connections' }
		})
		expect((await fetch(url + '/connections?token=x')).status).toBe(403)
		expect((await fetch(url + '/connections?token=t')).status).toBe(200)
	})

	test('the snapshot is JSON: live counts and every connection with its metadata', async () => {
		const { url, port, registry } = start({ routes: allRoutes })
		await open(port, '/s')
		await open(port, '/s')
		await until(() => registry.list().every((c) => c.eventsSent === 1) && registry.count === 2)
		const response = await fetch(url + '/connections', admin)
		expect(response.headers.get('content-type')).toContain('application/json')
		const body = (await response.json()) as { counts: ConnectionCounts; connections: any[] }
		expect(body.counts).toEqual({
			total: 2,
			byRoute: { '/s': 2 },
			byTopic: {},
			byAddress: { '127.0.0.1': 2 },
			byKind: { sse: 2 },
			byUser: {}
		})
		expect(body.connections).toHaveLength(2)
		expect(body.connections[0]).toMatchObject({ kind: 'sse', route: '/s', address: '127.0.0.1', eventsSent: 1, lastEventId: '1' })
	})

	test('the watch route streams the counts as connections come and go', async () => {
		const { url, port } = start({ routes: allRoutes })
		const totals: number[] = []
		const source = new EventSource(url + '/connections/watch', {
			fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, 'x-admin': SECRET } })
		})
		sources.push(source)
		source.addEventListener('counts', (e) => totals.push((JSON.parse(e.data) as ConnectionCounts).total))
		// The watcher is itself a live stream: it counts itself.
		await until(() => totals.at(-1) === 1, 2000, 'the first counts')
		const a = await open(port, '/s')
		await open(port, '/s')
		await until(() => totals.at(-1) === 3, 2000, 'counts to rise to 3')
		a.destroy()
		await until(() => totals.at(-1) === 2, 2000, 'counts to fall to 2')
		expect(totals[0]).toBe(1)
	})
})

describe('Prometheus metrics', () => {
	test('the metrics route is Prometheus text that parses back to the live numbers', async () => {
		const { url, port, registry } = start({ routes: allRoutes, maxStreams: 4 })
		const drop = await open(port, '/s')
		await open(port, '/s')
		const nd = await open(port, '/ndjson')
		await nd.waitFor((c) => c.body.includes('"a":2'))
		await until(() => registry.count === 3 && registry.list()[1]!.eventsSent === 1)
		drop.destroy()
		await until(() => registry.count === 2)
		// One slow-consumer disconnect, as the hub's policy closes a stream.
		registry.close(registry.list().find((c) => c.kind === 'ndjson')!.id, 'slow')
		await open(port, '/s')
		await open(port, '/s')
		await open(port, '/s')
		const refused = await RawClient.request(port, '/s')
		clients.push(refused)
		await refused.waitFor((c) => c.status === 503)
		await until(() => registry.list().every((c) => c.eventsSent === 1))

		const response = await fetch(url + '/metrics', admin)
		expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
		const families = parsePrometheus(await response.text())
		const value = (name: string, labels?: Record<string, string>) => {
			const family = families.find((f) => f.name === name)
			expect(family).toBeDefined()
			const sample = family!.metrics.find((m) =>
				Object.entries(labels ?? {}).every(([k, v]) => m.labels?.[k] === v)
			)
			return Number(sample?.value)
		}
		const live = registry.list()
		expect(value('sluice_open_streams')).toBe(4)
		expect(value('sluice_open_streams_by_route', { route: '/s' })).toBe(4)
		expect(value('sluice_streams_opened_total')).toBe(6)
		expect(value('sluice_streams_closed_total', { reason: 'client' })).toBe(1)
		expect(value('sluice_streams_closed_total', { reason: 'slow' })).toBe(1)
		expect(value('sluice_slow_consumer_disconnects_total')).toBe(1)
		expect(value('sluice_streams_refused_total', { reason: 'max-streams' })).toBe(1)
		// Five SSE streams sent one event each (one has ended); the NDJSON stream two records.
		expect(value('sluice_events_sent_total', { kind: 'sse' })).toBe(5)
		expect(value('sluice_events_sent_total', { kind: 'ndjson' })).toBe(2)
		expect(value('sluice_bytes_sent_total', { kind: 'ndjson' })).toBe(16)
		expect(value('sluice_bytes_sent_total', { kind: 'sse' })).toBeGreaterThan(
			live.reduce((sum, c) => sum + c.bytesSent, 0)
		)
		const types = Object.fromEntries(families.map((f) => [f.name, f.type]))
		expect(types['sluice_open_streams']).toBe('GAUGE')
		expect(types['sluice_events_sent_total']).toBe('COUNTER')
	})

	test('label values and help text are escaped, and parse back intact', () => {
		const route = '/odd/"quoted"\\path\nnext'
		const text = formatMetrics([
			{
				name: 'x_open',
				help: 'help with \\ and\nnewline',
				type: 'gauge',
				samples: [{ labels: { route }, value: 3 }, { labels: { route: 'plain' }, value: Infinity }]
			}
		])
		expect(text.split('\n').filter(Boolean)).toHaveLength(4)
		const [family] = parsePrometheus(text)
		expect(family!.help).toBe('help with \\ and\nnewline')
		expect(family!.metrics).toEqual([
			{ labels: { route }, value: '3' },
			{ labels: { route: 'plain' }, value: '+Inf' }
		])
	})
})
