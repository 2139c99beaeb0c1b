import { describe, expect, test } from 'bun:test'
import { Elysia, type AnyElysia } from 'elysia'
import { listen } from '../support/server'
import { broadcastPlugin, connectionsPlugin, filePlugin, ndjsonPlugin, ssePlugin, streamPlugin, streaming } from '../../plugins'

// The routes that do not stream pay little for the plugins. Elysia learns what a route needs from
// its hooks' source text, which Bun's transpiler rewrites, so the test looks at what Elysia made:
// a plain route's answer through app.fetch is a Response (not a promise: the derive reads as
// synchronous), and its body is not parsed (the derive passes the context to no call). The
// helpers are on the context's prototype, made when a handler takes one.

const all = ['file', 'ndjson', 'ndjsonBody', 'sse', 'stream', 'subscribe']
const plugins: [string, () => AnyElysia, string[]][] = [
	['streaming()', () => new Elysia().use(streaming()), all],
	['ssePlugin()', () => new Elysia().use(ssePlugin()), ['sse']],
	['ndjsonPlugin()', () => new Elysia().use(ndjsonPlugin()), ['ndjson', 'ndjsonBody']],
	['filePlugin()', () => new Elysia().use(filePlugin()), ['file']],
	['streamPlugin()', () => new Elysia().use(streamPlugin()), ['stream']],
	['broadcastPlugin()', () => new Elysia().use(broadcastPlugin()), ['subscribe']],
	['ssePlugin() + connectionsPlugin()', () => new Elysia().use(ssePlugin()).use(connectionsPlugin()), ['sse']],
	[
		'every plugin one by one',
		() => new Elysia().use(ssePlugin()).use(ndjsonPlugin()).use(filePlugin()).use(streamPlugin()).use(broadcastPlugin()).use(connectionsPlugin()),
		all
	]
]

const helpersOf = (context: object) => all.filter((k) => typeof (context as Record<string, unknown>)[k] === 'function')

describe('a plain route with the plugins', () => {
	test('Elysia alone answers a plain route without a promise (what the others are held to)', () => {
		const answer = new Elysia().get('/json', () => ({ ok: true })).fetch(new Request('http://localhost/json'))
		expect(answer).toBeInstanceOf(Response)
	})

	for (const [name, make, helpers] of plugins)
		test(`${name}: answered without a promise, its body not parsed, and the helpers there for the routes that use them`, async () => {
			const app = make()
				.get('/json', () => ({ ok: true }))
				.post('/ignore-body', () => 'ok')
				.get('/helpers', (context) => helpersOf(context))
			const answer = app.fetch(new Request('http://localhost/json'))
			expect(answer).toBeInstanceOf(Response)
			expect(await (answer as Response).json()).toEqual({ ok: true })
			// A route that does not read its body answers a malformed one: Elysia was not made to parse it.
			const post = await app.fetch(
				new Request('http://localhost/ignore-body', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"broken' })
			)
			expect(post.status).toBe(200)
			expect(await (await app.fetch(new Request('http://localhost/helpers'))).json()).toEqual(helpers)
		})

	test('helpers of plugins used one by one all reach a handler, and stream under the route pattern', async () => {
		const app = new Elysia()
			.use(connectionsPlugin({ maxPerAddress: 0 }))
			.use(ssePlugin())
			.use(streamPlugin())
			.get('/sse/:id', ({ sse }) => sse([{ data: 'x' }]))
			.get('/stream/:id', ({ stream }) => stream(['x']))
		const routes: string[] = []
		app.decorator.connections.onOpen((c) => routes.push(c.route))
		const server = listen(app)
		try {
			expect(await (await fetch(`${server.url}/sse/1`)).text()).toContain('data: x')
			expect(await (await fetch(`${server.url}/stream/2`)).text()).toBe('x')
			expect(routes).toEqual(['/sse/:id', '/stream/:id'])
		} finally {
			await server.stop()
		}
	})
})
