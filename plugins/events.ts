import { Elysia } from 'elysia'
import type { EventRegistry } from '../src/events'

/** Options of the events plugin. */
export interface EventsPluginOptions {
	/** The description of the `text/event-stream` response in the OpenAPI document. @default 'Server-Sent Events' */
	description?: string
}

/**
 * Typed events on routes: adds the `sseEvents` route option, which documents
 * an sse() route in the app's OpenAPI document (@elysiajs/openapi) as
 * `text/event-stream`, one schema per event name of the registry. (The route's
 * sends are typed and checked by `sse(source, { events })`.)
 *
 * @example
 * const feed = events({ tick: t.Object({ n: t.Number() }) })
 * app.use(streaming()).use(openapi())
 *   .get('/ticks', ({ sse }) => sse(ticks, { events: feed }), { sseEvents: feed })
 */
export const eventsPlugin = (options: EventsPluginOptions = {}) => {
	const { description = 'Server-Sent Events' } = options
	return new Elysia({ name: 'sluice/events', seed: options }).macro({
		/** The registry of the events this route streams, for the OpenAPI document. */
		sseEvents: (registry: EventRegistry<any>) => ({ detail: registry.openapi(description) as {} })
	})
}
