import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { Elysia, type AnyElysia } from 'elysia'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
	broadcastPlugin,
	connectionsPlugin,
	filePlugin,
	ndjsonPlugin,
	ssePlugin,
	streamPlugin,
	streaming,
	type ConnectionCounts
} from '../../plugins'
import { registryOf } from '../../plugins/app-state'
import { RawClient } from '../support/raw-http'

// Every plugin alone with the connection manager, in both orders, two together, and the
// bundle: one registry and one hub per app, found by the plugins themselves.

const dir = mkdtempSync(join(tmpdir(), 'sluice-plugins-'))
// Big enough that a client that stops reading keeps the download open.
writeFileSync(join(dir, 'big.bin'), new Uint8Array(32 * 1024 * 1024))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const clients: RawClient[] = []
const apps: AnyElysia[] = []
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy()
	for (const app of apps.splice(0)) if (app.server) await app.stop(true)
})

const manager = () =>
	connectionsPlugin({ drain: { graceMs: 300 }, routes: { guard: () => true, snapshot: '/connections' } })

/** A plugin, the route that opens one endless stream with it, and what that stream counts as. */
interface Case {
	plugin: () => AnyElysia
	path: string
	mount: (app: any) => AnyElysia
	kind: string
	/** Sent a last frame on drain (SSE); the others are cut when the grace ends. */
	farewell: boolean
}

const cases: Record<string, Case> = {
	ssePlugin: {
		plugin: () => ssePlugin(),
		path: '/sse',
		mount: (app) => app.get('/sse', ({ sse }: any) => sse(async (s: any) => s.sleep(60_000))),
		kind: 'sse',
		farewell: true
	},
	ndjsonPlugin: {
		plugin: () => ndjsonPlugin(),
		path: '/ndjson',
		mount: (app) =>
			app.get('/ndjson', ({ ndjson }: any) =>
				ndjson(async (h: any) => {
					await h.send({ n: 1 })
					await h.sleep(60_000)
				})
			),
		kind: 'ndjson',
		farewell: false
	},
	streamPlugin: {
		plugin: () => streamPlugin(),
		path: '/text',
		mount: (app) =>
			app.get('/text', ({ stream }: any) =>
				stream(async (h: any) => {
					await h.write('first line\n')
					await h.sleep(60_000)
				})
			),
		kind: 'stream',
		farewell: false
	},
	filePlugin: {
		plugin: () => filePlugin({ root: dir }),
		path: '/file',
		mount: (app) => app.get('/file', ({ file }: any) => file('big.bin')),
		kind: 'file',
		farewell: false
	},
	broadcastPlugin: {
		plugin: () => broadcastPlugin(),
		path: '/topic',
		mount: (app) => app.get('/topic', ({ subscribe }: any) => subscribe('news')),
		kind: 'sse',
		farewell: true
	}
}

function start(app: AnyElysia): number {
	app.listen({ port: 0, hostname: '127.0.0.1' })
	apps.push(app)
	return app.server!.port as number
}

async function open(port: number, path: string): Promise<RawClient> {
	const client = await RawClient.request(port, path)
	clients.push(client)
	await client.waitFor((c) => c.status === 200)
	// A client that stops reading: a download stays open until the drain cuts it.
	client.pause()
	return client
}

const snapshot = async (port: number) =>
	((await (await fetch(`http://127.0.0.1:${port}/connections`)).json()) as { counts: ConnectionCounts }).counts

/** app.stop() returns (it waits for every open stream, so it would hang on one the manager never saw). */
async function stopsInTime(app: AnyElysia): Promise<void> {
	let timer: Timer | undefined
	const outcome = await Promise.race([
		app.stop().then(() => 'stopped'),
		new Promise((resolve) => (timer = setTimeout(resolve, 10_000, 'still waiting after 10 s')))
	])
	clearTimeout(timer)
	expect(outcome).toBe('stopped')
}

describe('each plugin alone with the connection manager', () => {
	for (const [name, c] of Object.entries(cases))
		for (const order of ['plugin first', 'manager first'] as const)
			test(`${name}, ${order}: counted in the snapshot, drained by app.stop()`, async () => {
				const app = order === 'plugin first' ? new Elysia().use(c.plugin()).use(manager()) : new Elysia().use(manager()).use(c.plugin())
				const port = start(c.mount(app))
				const client = await open(port, c.path)
				const counts = await snapshot(port)
				expect(counts.total).toBe(1)
				expect(counts.byKind).toEqual({ [c.kind]: 1 })
				expect(counts.byRoute).toEqual({ [c.path]: 1 })

				await stopsInTime(app)
				client.resume()
				await client.waitFor((r) => r.closed)
				if (c.farewell) expect(client.body).toContain('event: shutdown\n')
			})
})

test('two plugins and the manager: every kind counted in one registry; one drain closes them all', async () => {
	const app = new Elysia().use(ndjsonPlugin()).use(manager()).use(ssePlugin()).use(streamPlugin())
	for (const c of [cases.ssePlugin, cases.ndjsonPlugin, cases.streamPlugin]) c.mount(app)
	const port = start(app)
	const sse = await open(port, '/sse')
	await open(port, '/ndjson')
	await open(port, '/text')
	expect((await snapshot(port)).byKind).toEqual({ sse: 1, ndjson: 1, stream: 1 })
	expect(app.decorator.connections.counts().total).toBe(3)
	await stopsInTime(app)
	sse.resume()
	await sse.waitFor((r) => r.closed)
	expect(sse.body).toContain('event: shutdown\n')
})

test('the bundle: streaming() counts every helper and drains them on app.stop()', async () => {
	const app = new Elysia().use(
		streaming({ connections: { drain: { graceMs: 300 }, routes: { guard: () => true, snapshot: '/connections' } } })
	)
	for (const c of [cases.ssePlugin, cases.ndjsonPlugin, cases.streamPlugin, cases.broadcastPlugin]) c.mount(app)
	const port = start(app)
	for (const path of ['/sse', '/ndjson', '/text', '/topic']) await open(port, path)
	const counts = await snapshot(port)
	expect(counts.byKind).toEqual({ sse: 2, ndjson: 1, stream: 1 })
	expect(counts.byTopic).toEqual({ news: 1 })
	await stopsInTime(app)
})

test('broadcast and sse without a manager share one registry and one hub, in either order', async () => {
	for (const plugins of [
		[ssePlugin(), broadcastPlugin()],
		[broadcastPlugin(), ssePlugin()]
	]) {
		const app = new Elysia()
		for (const plugin of plugins) app.use(plugin)
		// A second broadcast plugin in a sub-app: its subscribe() still reads the app's one hub.
		const sub = new Elysia().use(broadcastPlugin()).get('/sub/topic', ({ subscribe }) => subscribe('news'))
		cases.ssePlugin.mount(cases.broadcastPlugin.mount(app.use(sub)))
		app.post('/publish', ({ broadcast }: any) => broadcast.publish('news', 'headline', { n: 1 }))
		const port = start(app)
		await open(port, '/sse')
		await open(port, '/topic')
		const viaSub = await open(port, '/sub/topic')
		viaSub.resume()
		expect(registryOf(app).counts().byKind).toEqual({ sse: 3 })
		expect(registryOf(app).counts().byTopic).toEqual({ news: 2 })
		await fetch(`http://127.0.0.1:${port}/publish`, { method: 'POST' })
		await viaSub.waitFor((r) => r.body.includes('event: headline\n'))
		for (const c of clients.splice(0)) c.destroy()
		await app.stop(true)
	}
})

test('two connection managers that differ only in their guard both serve their routes, on the one registry', async () => {
	const guardFor =
		(role: string) =>
		({ headers }: { headers: Record<string, string | undefined> }) =>
			headers['x-role'] === role
	const admin = new Elysia({ prefix: '/admin' }).use(connectionsPlugin({ routes: { guard: guardFor('admin'), snapshot: '/connections' } }))
	const ops = new Elysia({ prefix: '/ops' }).use(connectionsPlugin({ routes: { guard: guardFor('ops'), snapshot: '/connections' } }))
	const app = cases.ssePlugin.mount(new Elysia().use(admin).use(ops).use(ssePlugin()))
	const port = start(app)
	await open(port, '/sse')
	for (const role of ['admin', 'ops']) {
		const allowed = await fetch(`http://127.0.0.1:${port}/${role}/connections`, { headers: { 'x-role': role } })
		expect(allowed.status).toBe(200)
		expect(((await allowed.json()) as { counts: ConnectionCounts }).counts.total).toBe(1)
		const other = role === 'admin' ? 'ops' : 'admin'
		const refused = await fetch(`http://127.0.0.1:${port}/${role}/connections`, { headers: { 'x-role': other } })
		expect(refused.status).toBe(403)
	}
})

test("clusterConnections() of a standalone manager sums the counts that broadcast's transport carries, in either order", async () => {
	for (const order of ['manager first', 'broadcast first'] as const) {
		const plugins = [connectionsPlugin(), broadcastPlugin()]
		if (order === 'broadcast first') plugins.reverse()
		const app = new Elysia()
		for (const plugin of plugins) app.use(plugin)
		cases.broadcastPlugin.mount(app)
		app.get('/cluster', ({ clusterConnections }: any) => clusterConnections())
		const port = start(app)
		await open(port, '/topic')
		const counts = (await (await fetch(`http://127.0.0.1:${port}/cluster`)).json()) as ConnectionCounts
		expect({ order, total: counts.total, byTopic: counts.byTopic }).toEqual({ order, total: 1, byTopic: { news: 1 } })
		for (const c of clients.splice(0)) c.destroy()
		await app.stop(true)
	}
})
