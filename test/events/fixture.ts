import { Elysia, t } from 'elysia'
import { streaming } from 'sluice'
import { events } from '../../src/events'
import { listen } from '../support/server'

/** The events the test server sends. */
export const feed = events({
	count: t.Object({ n: t.Number() }),
	note: t.String(),
	any: t.Unknown()
})

/** Every data shape that Eden's own parser gets wrong, and a few more. */
export const shapes: ({ event: 'note'; data: string } | { event: 'any'; data: unknown })[] = [
	{ event: 'note', data: '42' },
	{ event: 'note', data: 'true' },
	{ event: 'note', data: 'null' },
	{ event: 'note', data: '2024-01-01T00:00:00Z' },
	{ event: 'note', data: 'Sun Nov 22 2026 00:00:00 GMT+0000 (UTC)' },
	{ event: 'note', data: 'first line\nsecond line\n\nfourth' },
	{ event: 'note', data: '[1,2]' },
	{ event: 'note', data: '' },
	{ event: 'note', data: 'data: not a field\n\nevent: evil' },
	{ event: 'note', data: 'ünïcødé ✓ 𝄞' },
	{ event: 'any', data: '42' },
	{ event: 'any', data: 42 },
	{ event: 'any', data: null },
	{ event: 'any', data: false },
	{ event: 'any', data: '2024-01-01' },
	{ event: 'any', data: { at: '2024-01-01T00:00:00Z', text: 'a\nb', n: [1, '1'] } },
	{ event: 'any', data: ['x', { y: 'z\r\n' }] }
]

/**
 * A server with the routes the client tests need, and what it saw: each
 * request's Last-Event-ID, and how many /forever streams the client left.
 */
export function startFixture() {
	const seen = { requests: [] as { path: string; search: string; lastEventId: string | null }[], left: 0 }
	const app = new Elysia()
		.use(streaming())
		.onRequest(({ request }) => {
			const { pathname: path, search } = new URL(request.url)
			seen.requests.push({ path, search, lastEventId: request.headers.get('last-event-id') })
		})
		// Three counted events a connection, resuming after Last-Event-ID, then the stream ends.
		.get('/count', ({ sse }) =>
			sse(
				async (s) => {
					const from = Number(s.lastEventId ?? 0)
					for (let n = from + 1; n <= from + 3; n++) await s.send('count', { n }, { id: n })
				},
				{ events: feed, retryMs: 30 }
			)
		)
		.get('/shapes', ({ sse }) => sse(shapes, { events: feed }))
		.get('/mixed', ({ sse }) =>
			sse([{ event: 'other', data: 'skipped' }, { event: 'note', data: 'kept' }])
		)
		.get('/fails', ({ sse }) =>
			sse(async function* () {
				yield { event: 'note', data: 'before' }
				throw new Error('producer broke')
			})
		)
		.get('/bad-send', ({ sse }) =>
			sse(
				async (s) => {
					await s.send('count', { n: 1 })
					await s.send('count', { n: 'two' } as never)
					await s.send('count', { n: 3 })
				},
				{ events: feed }
			)
		)
		// One event, then waits until the client leaves.
		.get('/forever', ({ sse }) =>
			sse(
				async (s) => {
					s.stream.onClose((reason) => reason === 'client' && seen.left++)
					await s.send('count', { n: 1 })
					await new Promise((resolve) => s.signal.addEventListener('abort', resolve))
				},
				{ events: feed }
			)
		)
		.get('/no-content', () => new Response(null, { status: 204 }))
		.get('/broken', () => new Response('nope', { status: 500 }))
		.get('/plain', () => new Response('data: hi\n\n', { headers: { 'content-type': 'text/plain' } }))
		.get('/redirect', () => new Response(null, { status: 307, headers: { location: '/count' } }))
	const server = listen(app)
	return { app, server, seen, url: (path: string) => server.url + path, hits: (path: string) => seen.requests.filter((r) => r.path === path) }
}
