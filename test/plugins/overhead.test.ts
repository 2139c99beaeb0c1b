import { describe, expect, test } from 'bun:test'
import { Elysia, type AnyElysia } from 'elysia'
import { broadcastPlugin, connectionsPlugin, filePlugin, ndjsonPlugin, ssePlugin, streamPlugin, streaming } from '../../plugins'

// The routes that do not stream pay little for the plugins: their derive must read to Elysia as
// synchronous, or Elysia makes every route of the app return a promise (and await the derive).
// Elysia decides that from the hook's source text, which Bun's transpiler rewrites, so the test
// looks at what Elysia made: a plain route's answer through app.fetch, a Response or a promise.

const plugins: [string, () => AnyElysia][] = [
	['streaming()', () => new Elysia().use(streaming())],
	['ssePlugin()', () => new Elysia().use(ssePlugin())],
	['ndjsonPlugin()', () => new Elysia().use(ndjsonPlugin())],
	['filePlugin()', () => new Elysia().use(filePlugin())],
	['streamPlugin()', () => new Elysia().use(streamPlugin())],
	['broadcastPlugin()', () => new Elysia().use(broadcastPlugin())],
	['ssePlugin() + connectionsPlugin()', () => new Elysia().use(ssePlugin()).use(connectionsPlugin())]
]

describe('a plain route with the plugins', () => {
	test('Elysia alone answers a plain route without a promise (what the others are held to)', () => {
		const answer = new Elysia().get('/json', () => ({ ok: true })).fetch(new Request('http://localhost/json'))
		expect(answer).toBeInstanceOf(Response)
	})

	for (const [name, make] of plugins)
		test(`${name}: answered without a promise, and the helpers are there for the routes that use them`, async () => {
			const app = make()
				.get('/json', () => ({ ok: true }))
				.get('/helpers', (context) => Object.keys(context).filter((k) => typeof (context as Record<string, unknown>)[k] === 'function' && ['sse', 'ndjson', 'ndjsonBody', 'file', 'stream', 'subscribe'].includes(k)).sort())
			const answer = app.fetch(new Request('http://localhost/json'))
			expect(answer).toBeInstanceOf(Response)
			expect(await (answer as Response).json()).toEqual({ ok: true })
			const helpers = (await (await app.fetch(new Request("http://localhost/helpers"))).json()) as string[]
			expect(helpers.length).toBeGreaterThan(0)
		})
})
