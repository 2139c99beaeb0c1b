// Typed events end to end: a registry types and checks what the server sends,
// and both Eden treaty (with edenSse) and sluice/client read typed, exact values.
//   server: bun run examples/typed-client.ts
//   client: bun run examples/typed-client.ts client http://localhost:3000
import { Elysia, t } from 'elysia'
import { treaty } from '@elysiajs/eden'
import { streaming, events, eventIdNumber } from 'sluice'
import { connect, edenSse } from 'sluice/client'
import { serveExample } from './support/serve'

// One registry, imported by the server and its clients.
export const feed = events({
	tick: t.Object({ n: t.Number(), at: t.String({ format: 'date-time' }) }),
	note: t.String(), // strings travel as raw text: "007" stays "007"
	status: t.Union([t.Literal('starting'), t.Literal('running')])
})

export const app = new Elysia().use(streaming()).get(
	'/typed-events',
	({ sse }) =>
		sse(
			async (s) => {
				await s.send('status', 'starting')
				// Resume after the last tick the client saw.
				for (let n = (eventIdNumber(s.lastEventId) ?? 0) + 1; ; n++) {
					await s.send('tick', { n, at: new Date().toISOString() }, { id: n })
					if (n % 3 === 0) await s.send('note', '007')
					await s.sleep(250)
				}
			},
			{ events: feed }
		),
	{ sseEvents: feed } // documents the stream in OpenAPI, when @elysiajs/openapi is used
)

/** One line per event; `m` is a union narrowed by `m.event`. */
function show(who: string, m: { event: 'tick'; data: { n: number; at: string } } | { event: 'note' | 'status'; data: string }) {
	const text = m.event === 'tick' ? `n=${m.data.n} at=${m.data.at}` : JSON.stringify(m.data)
	console.log(`${who.padEnd(7)} ${m.event.padEnd(6)} ${text}`)
}

async function client(url: string) {
	// Eden treaty: data is an async generator of the route's events, typed and exact.
	const api = treaty<typeof app>(url, edenSse({ events: feed }))
	const { data, error } = await api['typed-events'].get()
	if (error) throw error
	let seen = 0
	for await (const m of data) {
		show('eden', m)
		if (++seen === 5) break // closes the request
	}
	// sluice/client: the same values, with reconnects that resume from the last id.
	seen = 0
	for await (const m of connect(`${url}/typed-events`, { events: feed })) {
		show('connect', m)
		if (++seen === 5) break
	}
}

if (process.argv[2] === 'client') await client(process.argv[3] ?? 'http://localhost:3000')
else serveExample(app, 'curl -N $URL/typed-events', 'bun run examples/typed-client.ts client $URL')
