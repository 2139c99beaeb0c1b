// What streaming() costs the routes that do not stream: a plain JSON route
// through app.fetch (no network, so the framework's own work is what moves),
// without the plugin, with each helper plugin alone, and with streaming().
//   bun run bench overhead          (REQUESTS, ROUNDS to change)
import { Elysia, type AnyElysia } from 'elysia'
import { broadcastPlugin, connectionsPlugin, filePlugin, ndjsonPlugin, ssePlugin, streamPlugin, streaming } from '../plugins'
import { printTable, type Row } from './support/table'

// Many short rounds: on a shared VM a round is often disturbed, and the least disturbed one counts.
const REQUESTS = Number(process.env.REQUESTS ?? 60_000)
const ROUNDS = Number(process.env.ROUNDS ?? 10)

const apps: [string, () => AnyElysia][] = [
	['Elysia alone', () => new Elysia()],
	['Elysia + a one-line derive', () => new Elysia().derive({ as: 'global' }, ({ request }) => ({ req: () => request }))],
	['+ ssePlugin()', () => new Elysia().use(ssePlugin())],
	['+ ndjsonPlugin()', () => new Elysia().use(ndjsonPlugin())],
	['+ filePlugin()', () => new Elysia().use(filePlugin())],
	['+ streamPlugin()', () => new Elysia().use(streamPlugin())],
	['+ broadcastPlugin()', () => new Elysia().use(broadcastPlugin())],
	['+ ssePlugin() + connectionsPlugin()', () => new Elysia().use(ssePlugin()).use(connectionsPlugin())],
	['+ streaming()', () => new Elysia().use(streaming())]
]

const request = new Request('http://localhost/json')
// Rounds interleave the apps; each app's least disturbed round is kept.
const best = new Map<string, number>()
for (let round = 0; round < ROUNDS; round++)
	for (const [name, make] of apps) {
		const app = make().get('/json', () => ({ ok: true }))
		const fetch = app.fetch
		for (let i = 0; i < 20_000; i++) await fetch(request)
		const started = performance.now()
		for (let i = 0; i < REQUESTS; i++) await fetch(request)
		const ns = ((performance.now() - started) * 1e6) / REQUESTS
		best.set(name, Math.min(best.get(name) ?? Infinity, ns))
	}

const base = best.get('Elysia alone')!
// The target is put in this unit: what a one-line derive (any plugin's least) costs in the same run.
const derive = best.get('Elysia + a one-line derive')! - base
const rows: Row[] = [...best].map(([name, ns]) => ({
	name,
	values: { 'ns/request': ns, 'added ns': ns - base, 'in one-line derives': ((ns - base) / derive).toFixed(2) }
}))
printTable(`A plain JSON route through app.fetch, ${REQUESTS.toLocaleString('en-US')} requests, best of ${ROUNDS}`, rows, 'ns/request', ['Elysia alone'])
