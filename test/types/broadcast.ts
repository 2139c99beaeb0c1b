// Type test: checked by `bunx tsc --noEmit`, never run. Each @ts-expect-error must be an error.
// broadcast.publish(topic, event, data) is typed by the events() registry broadcast is given.
import { Elysia, t } from 'elysia'
import { broadcastPlugin, events, streaming } from 'sluice'
import { Hub } from '../../src/hub'

const feed = events({ tick: t.Object({ n: t.Number() }), note: t.String() })

new Elysia().use(streaming({ broadcast: { registry: feed } })).post('/tick', async ({ broadcast }) => {
	await broadcast.publish('room', 'tick', { n: 1 })
	await broadcast.publish('room', 'note', 'hello')
	// @ts-expect-error an event the registry does not have
	await broadcast.publish('room', 'tock', { n: 1 })
	// @ts-expect-error a payload that does not fit the event's schema
	await broadcast.publish('room', 'tick', { n: 'one' })
	// @ts-expect-error a payload of another event
	await broadcast.publish('room', 'note', { n: 1 })
})

// The standalone plugin takes the registry the same way.
new Elysia().use(broadcastPlugin({ registry: feed })).post('/tick', async ({ broadcast }) => {
	await broadcast.publish('room', 'tick', { n: 1 })
	// @ts-expect-error an event the registry does not have
	await broadcast.publish('room', 'tock', 1)
	// @ts-expect-error a payload that does not fit the event's schema
	await broadcast.publish('room', 'note', 42)
})

// Without a registry (or with a checker that is not an events() registry): any event, any data.
new Elysia().use(streaming()).post('/any', async ({ broadcast }) => {
	await broadcast.publish('room', 'anything', { whatever: [1, 'two'] })
	await broadcast.publish('room', 'message', 42)
})
const checker = { check: (event: string, data: unknown) => typeof data === 'number' }
new Elysia().use(broadcastPlugin({ registry: checker })).post('/checked', async ({ broadcast }) => {
	await broadcast.publish('room', 'anything', 1)
})

// A Hub built by hand is typed the same way.
const hub = new Hub({ registry: feed })
void hub.publish('room', 'tick', { n: 1 })
// @ts-expect-error a payload that does not fit the event's schema
void hub.publish('room', 'tick', 'one')
void new Hub().publish('room', 'anything', null)
